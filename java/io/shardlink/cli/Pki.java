package io.shardlink.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A small certificate authority in a directory, for {@code shardlink certs} and for the ephemeral identities
 * of {@code demo} and {@code bench}. Layout of DIR:
 * <pre>
 *   ca.pem          CA certificate (every node's --trust)
 *   ca.key.pem      CA private key (PKCS#8; keep it off the nodes)
 *   NAME.crt.pem    node certificate, signed by the CA, followed by the CA certificate (--cert)
 *   NAME.key.pem    node private key (PKCS#8, mode 600) (--key)
 * </pre>
 * Keys are EC P-256; node certificates carry serverAuth + clientAuth (shardlink uses mutual TLS) and SANs
 * localhost, 127.0.0.1, ::1, this host's name, and any given.
 */
final class Pki {
    static final String CA_CERT = "ca.pem";
    static final String CA_KEY = "ca.key.pem";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dir;
    private final PrivateKey caKey;
    private final X509Certificate caCert;
    private final int days;

    private Pki(Path dir, PrivateKey caKey, X509Certificate caCert, int days) {
        this.dir = dir;
        this.caKey = caKey;
        this.caCert = caCert;
        this.days = days;
    }

    /** Loads the CA in {@code dir}, or creates one there. */
    static Pki openOrCreate(Path dir, String caName, int days) throws Exception {
        Files.createDirectories(dir);
        Path cert = dir.resolve(CA_CERT);
        Path key = dir.resolve(CA_KEY);
        if (Files.exists(cert) && Files.exists(key)) {
            return new Pki(dir, readKey(key), readCert(cert), days);
        }
        if (Files.exists(cert) || Files.exists(key)) {
            throw new CliException(dir + " has only one of " + CA_CERT + " and " + CA_KEY + ": remove it or add the other");
        }
        KeyPair kp = ecKey();
        X500Name subject = new X500Name("CN=" + caName);
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(), notBefore(), notAfter(days),
                subject, kp.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        X509Certificate c = sign(b, kp.getPrivate());
        writeKey(key, kp.getPrivate());
        writeCerts(cert, c);
        return new Pki(dir, kp.getPrivate(), c, days);
    }

    Path caPem() {
        return dir.resolve(CA_CERT);
    }

    Path certPem(String name) {
        return dir.resolve(name + ".crt.pem");
    }

    Path keyPem(String name) {
        return dir.resolve(name + ".key.pem");
    }

    /** Issues (or re-issues) node {@code name}'s certificate and key. Returns [cert, key]. */
    Path[] issue(String name, List<String> extraSans) throws Exception {
        if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new CliException("node name '" + name + "' must be 1..64 characters of A-Z a-z 0-9 . _ -");
        }
        KeyPair kp = ecKey();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                X500Name.getInstance(caCert.getSubjectX500Principal().getEncoded()), serial(), notBefore(),
                notAfter(days), new X500Name("CN=" + name), kp.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        b.addExtension(Extension.extendedKeyUsage, false,
                new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans(extraSans)));
        X509Certificate c = sign(b, caKey);
        Path certPem = certPem(name);
        Path keyPem = keyPem(name);
        writeCerts(certPem, c, caCert);
        writeKey(keyPem, kp.getPrivate());
        return new Path[] {certPem, keyPem};
    }

    private static GeneralName[] sans(List<String> extra) {
        Set<String> names = new LinkedHashSet<>(List.of("localhost", "127.0.0.1", "::1"));
        try {
            names.add(InetAddress.getLocalHost().getHostName());
        } catch (IOException e) {
            // no host name: the fixed ones will do
        }
        names.addAll(extra);
        List<GeneralName> out = new ArrayList<>();
        for (String n : names) {
            boolean ip = n.matches("[0-9.]+") || n.contains(":");
            out.add(new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, n));
        }
        return out.toArray(new GeneralName[0]);
    }

    /** A throwaway CA and one node identity in a temporary directory (demo, bench); deleted by {@link #close}. */
    static final class Ephemeral implements AutoCloseable {
        final Path dir;
        final Path cert;
        final Path key;
        final Path trust;

        Ephemeral(String prefix) {
            try {
                this.dir = Files.createTempDirectory(prefix);
                Pki pki = openOrCreate(dir, "shardlink ephemeral CA", 1);
                Path[] kc = pki.issue("node", List.of());
                this.cert = kc[0];
                this.key = kc[1];
                this.trust = pki.caPem();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (Exception e) {
                throw new IllegalStateException("cannot make a TLS identity: " + e, e);
            }
        }

        @Override
        public void close() {
            deleteTree(dir);
        }
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }

    private static KeyPair ecKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey issuer) throws Exception {
        ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(issuer);
        return new JcaX509CertificateConverter().getCertificate(b.build(signer));
    }

    private static void writeCerts(Path p, X509Certificate... certs) throws IOException {
        try (Writer w = Files.newBufferedWriter(p); JcaPEMWriter pw = new JcaPEMWriter(w)) {
            for (X509Certificate c : certs) {
                pw.writeObject(c);
            }
        }
    }

    private static void writeKey(Path p, PrivateKey key) throws IOException {
        Files.deleteIfExists(p);
        try {
            Files.createFile(p, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(p);
        }
        try (Writer w = Files.newBufferedWriter(p); JcaPEMWriter pw = new JcaPEMWriter(w)) {
            pw.writeObject(new JcaPKCS8Generator(key, null));
        }
    }

    private static X509Certificate readCert(Path p) throws Exception {
        try (Reader r = Files.newBufferedReader(p); PEMParser pp = new PEMParser(r)) {
            Object o = pp.readObject();
            if (!(o instanceof X509CertificateHolder h)) {
                throw new CliException(p + " holds no PEM certificate");
            }
            return new JcaX509CertificateConverter().getCertificate(h);
        }
    }

    private static PrivateKey readKey(Path p) throws Exception {
        try (Reader r = Files.newBufferedReader(p); PEMParser pp = new PEMParser(r)) {
            Object o = pp.readObject();
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
            if (o instanceof PrivateKeyInfo pki) {
                return conv.getPrivateKey(pki);
            }
            if (o instanceof PEMKeyPair kp) {
                return conv.getKeyPair(kp).getPrivate();
            }
            throw new CliException(p + " holds no unencrypted PEM private key");
        }
    }

    private static BigInteger serial() {
        return new BigInteger(64, RANDOM);
    }

    private static Date notBefore() {
        return new Date(System.currentTimeMillis() - 3_600_000L);
    }

    private static Date notAfter(int days) {
        return new Date(System.currentTimeMillis() + days * 24L * 3_600_000L);
    }
}
