package io.shardlink.quic;

import io.netty.handler.ssl.ClientAuth;
import io.netty.incubator.codec.quic.QuicSslContext;
import io.netty.incubator.codec.quic.QuicSslContextBuilder;
import io.shardlink.config.ShardlinkConfig;

/** TLS 1.3 contexts for QUIC with ALPN {@value #ALPN}; peers are always verified against the configured trust. */
public final class QuicTls {
    public static final String ALPN = "shardlink/1";

    private QuicTls() {}

    public static QuicSslContext server(ShardlinkConfig c) {
        QuicSslContextBuilder b = c.keyManagerFactory() != null
                ? QuicSslContextBuilder.forServer(c.keyManagerFactory(), c.privateKeyPassword())
                : QuicSslContextBuilder.forServer(c.privateKeyPem().toFile(), c.privateKeyPassword(),
                c.certChainPem().toFile());
        trust(b, c);
        return b.applicationProtocols(ALPN)
                .clientAuth(c.requireClientAuth() ? ClientAuth.REQUIRE : ClientAuth.NONE)
                .build();
    }

    public static QuicSslContext client(ShardlinkConfig c) {
        QuicSslContextBuilder b = QuicSslContextBuilder.forClient();
        if (c.keyManagerFactory() != null) {
            b.keyManager(c.keyManagerFactory(), c.privateKeyPassword());
        } else {
            b.keyManager(c.privateKeyPem().toFile(), c.privateKeyPassword(), c.certChainPem().toFile());
        }
        trust(b, c);
        return b.applicationProtocols(ALPN).build();
    }

    private static void trust(QuicSslContextBuilder b, ShardlinkConfig c) {
        if (c.trustManagerFactory() != null) {
            b.trustManager(c.trustManagerFactory());
        } else {
            b.trustManager(c.trustCertsPem().toFile());
        }
    }
}
