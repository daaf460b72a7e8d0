package io.shardlink.testing;

import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A tiny test PKI made with BouncyCastle (works on JDK 17 and 25, unlike Netty's SelfSignedCertificate):
 * a CA and node certificates it signs (SAN localhost + 127.0.0.1), written as PEM files.
 */
public final class TestPki {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final String name;
    private final KeyPair caKey;
    private final X509Certificate caCert;
    private final Path dir;

    public TestPki(String name, Path dir) throws Exception {
        this.name = name;
        this.dir = dir;
        Files.createDirectories(dir);
        this.caKey = ecKey();
        X500Name subject = new X500Name("CN=" + name + " test CA");
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(), notBefore(), notAfter(), subject,
                caKey.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        this.caCert = sign(b, caKey);
        write(dir.resolve(name + "-ca.pem"), caCert);
    }

    /** The CA certificate PEM (use as trustCertsPem). */
    public Path caPem() {
        return dir.resolve(name + "-ca.pem");
    }

    /** A node's certificate (signed by this CA) and key: [certChainPem, privateKeyPem]. */
    public Path[] issue(String node) throws Exception {
        KeyPair kp = ecKey();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name("CN=" + name + " test CA"), serial(),
                notBefore(), notAfter(), new X500Name("CN=" + node), kp.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        X509Certificate cert = sign(b, caKey);
        Path certPem = dir.resolve(node + ".crt.pem");
        Path keyPem = dir.resolve(node + ".key.pem");
        write(certPem, cert, caCert);
        try (Writer w = Files.newBufferedWriter(keyPem); JcaPEMWriter pw = new JcaPEMWriter(w)) {
            pw.writeObject(new JcaPKCS8Generator(kp.getPrivate(), null));
        }
        return new Path[] {certPem, keyPem};
    }

    private static KeyPair ecKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return g.generateKeyPair();
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair issuer) throws Exception {
        ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate());
        return new JcaX509CertificateConverter().getCertificate(b.build(signer));
    }

    private static void write(Path p, X509Certificate... certs) throws IOException {
        try (Writer w = Files.newBufferedWriter(p); JcaPEMWriter pw = new JcaPEMWriter(w)) {
            for (X509Certificate c : certs) {
                pw.writeObject(c);
            }
        }
    }

    private static BigInteger serial() {
        return new BigInteger(64, RANDOM);
    }

    private static Date notBefore() {
        return new Date(System.currentTimeMillis() - 3_600_000L);
    }

    private static Date notAfter() {
        return new Date(System.currentTimeMillis() + 7L * 24 * 3_600_000L);
    }
}
