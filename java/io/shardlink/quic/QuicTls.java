package io.shardlink.quic;

import io.netty.handler.ssl.ClientAuth;
import io.netty.incubator.codec.quic.QuicSslContext;
import io.netty.incubator.codec.quic.QuicSslContextBuilder;
import io.shardlink.config.ShardlinkConfig;

/**
 * TLS 1.3 contexts for QUIC with ALPN {@value #ALPN}; peers are always verified against the configured trust.
 * The key material comes from a node's {@link TlsKeys} (read once per node, not once per context).
 */
public final class QuicTls {
    public static final String ALPN = "shardlink/1";

    private QuicTls() {}

    public static QuicSslContext server(ShardlinkConfig c) {
        return server(c, TlsKeys.of(c));
    }

    public static QuicSslContext server(ShardlinkConfig c, TlsKeys keys) {
        return QuicSslContextBuilder.forServer(keys.keyManagers(), keys.keyPassword())
                .trustManager(keys.trustManagers())
                .applicationProtocols(ALPN)
                .clientAuth(c.requireClientAuth() ? ClientAuth.REQUIRE : ClientAuth.NONE)
                .build();
    }

    public static QuicSslContext client(ShardlinkConfig c) {
        return client(TlsKeys.of(c));
    }

    /** A fresh client context per connection (no session resumption across connections), on shared keys. */
    public static QuicSslContext client(TlsKeys keys) {
        return QuicSslContextBuilder.forClient()
                .keyManager(keys.keyManagers(), keys.keyPassword())
                .trustManager(keys.trustManagers())
                .applicationProtocols(ALPN).build();
    }
}
