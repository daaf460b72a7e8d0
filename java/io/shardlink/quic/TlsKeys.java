package io.shardlink.quic;

import io.shardlink.api.ShardlinkException;
import io.shardlink.config.ShardlinkConfig;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.PBEParameterSpec;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * A node's TLS key material and trust, read once when the node starts and shared by its server context and the
 * client context of every connection it opens.
 *
 * <p>Why: handing PEM files to Netty's context builder makes it put the key into a fresh PKCS#12 key store and
 * take it out again, each time, and the JDK protects a PKCS#12 key entry with 10,000 rounds of PBKDF2 both ways:
 * about 40 ms per context on a host, 100 ms with the JIT's first tier, seconds under emulation, paid twice per
 * node start and once per outgoing connection. Here the key store lives in memory only (the key is already in
 * memory in clear, read from its PEM file), so its entry is protected with a single round.
 */
public final class TlsKeys {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String ALIAS = "node";

    private final KeyManagerFactory keyManagers;
    /** What the context builders pass with {@link #keyManagers}: the configured password for a given factory. */
    private final String keyPassword;
    private final TrustManagerFactory trustManagers;

    private TlsKeys(KeyManagerFactory keyManagers, String keyPassword, TrustManagerFactory trustManagers) {
        this.keyManagers = keyManagers;
        this.keyPassword = keyPassword;
        this.trustManagers = trustManagers;
    }

    /** The config's factories as given, or both read from its PEM files; a ShardlinkException names a bad file. */
    public static TlsKeys of(ShardlinkConfig c) {
        KeyManagerFactory kmf = c.keyManagerFactory();
        String password = c.privateKeyPassword();
        if (kmf == null) {
            kmf = keyManagers(c.privateKeyPem(), password, c.certChainPem());
            password = null;
        }
        TrustManagerFactory tmf = c.trustManagerFactory() != null ? c.trustManagerFactory()
                : trustManagers(c.trustCertsPem());
        return new TlsKeys(kmf, password, tmf);
    }

    public KeyManagerFactory keyManagers() {
        return keyManagers;
    }

    public String keyPassword() {
        return keyPassword;
    }

    public TrustManagerFactory trustManagers() {
        return trustManagers;
    }

    private static KeyManagerFactory keyManagers(Path keyPem, String password, Path chainPem) {
        PrivateKey key = privateKey(keyPem, password);
        Certificate[] chain = certificates(chainPem, "certChainPem");
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            byte[] salt = new byte[16];
            byte[] iv = new byte[16];
            RANDOM.nextBytes(salt);
            RANDOM.nextBytes(iv);
            char[] none = new char[0];
            ks.setEntry(ALIAS, new KeyStore.PrivateKeyEntry(key, chain), new KeyStore.PasswordProtection(none,
                    "PBEWithHmacSHA256AndAES_256", new PBEParameterSpec(salt, 1, new IvParameterSpec(iv))));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, none);
            return kmf;
        } catch (Exception e) {
            throw new ShardlinkException("TLS: the key in " + keyPem + " and the certificates in " + chainPem
                    + " do not make a key manager: " + e, e);
        }
    }

    private static TrustManagerFactory trustManagers(Path trustPem) {
        Certificate[] cas = certificates(trustPem, "trustCertsPem");
        try {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            for (int i = 0; i < cas.length; i++) {
                ks.setCertificateEntry("ca" + i, cas[i]);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            return tmf;
        } catch (Exception e) {
            throw new ShardlinkException("TLS: the certificates in " + trustPem + " do not make a trust manager: " + e,
                    e);
        }
    }

    private static Certificate[] certificates(Path pem, String field) {
        try (InputStream in = Files.newInputStream(pem)) {
            Certificate[] certs = CertificateFactory.getInstance("X.509").generateCertificates(in)
                    .toArray(new Certificate[0]);
            if (certs.length == 0) {
                throw new ShardlinkException("TLS: " + field + " " + pem + " holds no PEM certificate");
            }
            return certs;
        } catch (ShardlinkException e) {
            throw e;
        } catch (Exception e) {
            throw new ShardlinkException("TLS: cannot read the certificates of " + field + " " + pem + ": " + e, e);
        }
    }

    /**
     * A PKCS#8 key (encrypted with {@code password}, or clear), or a traditional EC/RSA key in clear. An encrypted
     * key is decrypted with BouncyCastle's provider (an instance, not installed): the JDK's names no OpenSSL cipher.
     */
    private static PrivateKey privateKey(Path pem, String password) {
        try (Reader r = Files.newBufferedReader(pem); PEMParser pp = new PEMParser(r)) {
            Object o = pp.readObject();
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
            if (o instanceof PKCS8EncryptedPrivateKeyInfo enc) {
                if (password == null) {
                    throw new ShardlinkException("TLS: privateKeyPem " + pem + " is encrypted: set privateKeyPassword");
                }
                return conv.getPrivateKey(enc.decryptPrivateKeyInfo(
                        new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(new BouncyCastleProvider())
                                .build(password.toCharArray())));
            }
            if (o instanceof PrivateKeyInfo info) {
                return conv.getPrivateKey(info);
            }
            if (o instanceof PEMKeyPair kp) {
                return conv.getKeyPair(kp).getPrivate();
            }
            throw new ShardlinkException("TLS: privateKeyPem " + pem + " holds no PEM private key");
        } catch (ShardlinkException e) {
            throw e;
        } catch (Exception e) {
            throw new ShardlinkException("TLS: cannot read the private key in privateKeyPem " + pem + ": " + e, e);
        }
    }
}
