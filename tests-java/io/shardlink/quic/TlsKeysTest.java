package io.shardlink.quic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardlink.api.Peer;
import io.shardlink.api.ShardlinkException;
import io.shardlink.api.ShardlinkNode;
import io.shardlink.config.ShardlinkConfig;
import io.shardlink.config.TransportMode;
import io.shardlink.testing.TestNodes;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.X509KeyManager;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A node's key material is read from its PEM files once, into key and trust managers its TLS contexts share. */
class TlsKeysTest {
    @TempDir
    Path dir;

    private static PrivateKey readKey(Path pem) throws Exception {
        try (Reader r = Files.newBufferedReader(pem); PEMParser pp = new PEMParser(r)) {
            return new JcaPEMKeyConverter().getPrivateKey((PrivateKeyInfo) pp.readObject());
        }
    }

    private static X509KeyManager keyManager(TlsKeys keys) {
        return (X509KeyManager) keys.keyManagers().getKeyManagers()[0];
    }

    @Test
    void thePemKeyAndChainAreWhatTheKeyManagerHolds() throws Exception {
        ShardlinkConfig c = TestNodes.config("tk-plain").build();
        TlsKeys keys = TlsKeys.of(c);
        X509KeyManager km = keyManager(keys);
        String alias = km.chooseServerAlias("EC", null, null);
        assertThat(alias).isNotNull();
        assertThat(km.getPrivateKey(alias).getEncoded()).isEqualTo(readKey(c.privateKeyPem()).getEncoded());
        X509Certificate[] chain = km.getCertificateChain(alias);
        assertThat(chain).hasSize(2); // the node's certificate, then its CA's (TestPki writes both)
        assertThat(chain[0].getSubjectX500Principal().getName()).isEqualTo("CN=tk-plain");
        assertThat(keys.keyPassword()).isNull();
        assertThat(keys.trustManagers().getTrustManagers()).isNotEmpty();
    }

    @Test
    void anEncryptedKeyIsReadWithItsPasswordAndRefusedWithoutIt() throws Exception {
        ShardlinkConfig plain = TestNodes.config("tk-enc").build();
        PrivateKey key = readKey(plain.privateKeyPem());
        Path encrypted = dir.resolve("enc.key.pem");
        try (Writer w = Files.newBufferedWriter(encrypted); JcaPEMWriter pw = new JcaPEMWriter(w)) {
            pw.writeObject(new JcaPKCS8Generator(key,
                    new JceOpenSSLPKCS8EncryptorBuilder(JcaPKCS8Generator.AES_256_CBC)
                            .setProvider(new BouncyCastleProvider()).setPassword("s3cret".toCharArray()).build()));
        }
        ShardlinkConfig.Builder b = ShardlinkConfig.builder().nodeId("tk-enc").keyPem(plain.certChainPem(), encrypted)
                .trustCertsPem(plain.trustCertsPem());
        X509KeyManager km = keyManager(TlsKeys.of(b.privateKeyPassword("s3cret").build()));
        assertThat(km.getPrivateKey(km.chooseServerAlias("EC", null, null)).getEncoded())
                .isEqualTo(key.getEncoded());

        assertThatThrownBy(() -> TlsKeys.of(b.privateKeyPassword(null).build()))
                .isInstanceOf(ShardlinkException.class).hasMessageContaining("is encrypted: set privateKeyPassword");
        assertThatThrownBy(() -> TlsKeys.of(b.privateKeyPassword("wrong").build()))
                .isInstanceOf(ShardlinkException.class).hasMessageContaining(encrypted.toString());
    }

    @Test
    void filesWithoutAKeyOrACertificateAreNamedInTheError() throws Exception {
        ShardlinkConfig ok = TestNodes.config("tk-bad").build();
        Path junk = Files.writeString(dir.resolve("junk.pem"), "not a PEM file\n");
        assertThatThrownBy(() -> TlsKeys.of(TestNodes.config("tk-bad").keyPem(ok.certChainPem(), junk).build()))
                .isInstanceOf(ShardlinkException.class).hasMessageContaining("privateKeyPem " + junk);
        assertThatThrownBy(() -> TlsKeys.of(TestNodes.config("tk-bad").keyPem(junk, ok.privateKeyPem()).build()))
                .isInstanceOf(ShardlinkException.class).hasMessageContaining("certChainPem " + junk);
        assertThatThrownBy(() -> TlsKeys.of(TestNodes.config("tk-bad").trustCertsPem(junk).build()))
                .isInstanceOf(ShardlinkException.class).hasMessageContaining("trustCertsPem " + junk);
        // a node refuses to start with it, naming the file
        assertThatThrownBy(() -> ShardlinkNode.start(TestNodes.config("tk-bad").keyPem(ok.certChainPem(), junk)
                .transportMode(TransportMode.QUIC_ONLY).build()))
                .isInstanceOf(ShardlinkException.class).hasMessageContaining(junk.toString());
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void nodesConfiguredWithFactoriesInsteadOfFilesStillConnect() throws Exception {
        TlsKeys a = TlsKeys.of(TestNodes.config("tk-fa").build());
        TlsKeys b = TlsKeys.of(TestNodes.config("tk-fb").build());
        try (ShardlinkNode na = ShardlinkNode.start(ShardlinkConfig.builder().nodeId("tk-fa")
                .keyManagerFactory(a.keyManagers()).trustManagerFactory(a.trustManagers())
                .transportMode(TransportMode.QUIC_ONLY).build());
             ShardlinkNode nb = ShardlinkNode.start(ShardlinkConfig.builder().nodeId("tk-fb")
                     .keyManagerFactory(b.keyManagers()).trustManagerFactory(b.trustManagers())
                     .transportMode(TransportMode.QUIC_ONLY).build())) {
            nb.blobSource((v, n, o, l, d) -> {
                d.put(new byte[l]);
                return l;
            });
            Peer p = na.connect(nb.localAddress());
            assertThat(p.nodeId()).isEqualTo("tk-fb");
            assertThat(p.read(1, 1, 0, 32).get(10, TimeUnit.SECONDS).length()).isEqualTo(32);
        }
    }
}
