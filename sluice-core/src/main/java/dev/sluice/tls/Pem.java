package dev.sluice.tls;

import dev.sluice.api.config.ConfigException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import org.jspecify.annotations.Nullable;

/**
 * PEM as Envoy (BoringSSL) reads it: certificate chains, CRLs and private keys in PKCS#8 (plain or
 * encrypted), PKCS#1 ({@code RSA PRIVATE KEY}, as Istio writes RSA keys) or SEC1
 * ({@code EC PRIVATE KEY}). The JDK only reads PKCS#8, so the other two are wrapped into PKCS#8 here.
 */
final class Pem {
  private static final Pattern BLOCK =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);
  /** AlgorithmIdentifier rsaEncryption with NULL parameters. */
  private static final byte[] RSA_ALGORITHM = hex("300d06092a864886f70d0101010500");
  /** OID id-ecPublicKey. */
  private static final byte[] EC_PUBLIC_KEY_OID = hex("06072a8648ce3d0201");

  private Pem() {}

  private record Block(String type, String body) {}

  private static List<Block> blocks(byte[] pem) {
    List<Block> out = new ArrayList<>();
    Matcher m = BLOCK.matcher(new String(pem, StandardCharsets.US_ASCII));
    while (m.find()) {
      out.add(new Block(m.group(1), m.group(2)));
    }
    return out;
  }

  private static byte[] decode(Block b, String path) {
    if (b.body().contains("Proc-Type:")) {
      throw new ConfigException(path, "legacy encrypted PEM (Proc-Type header) is not supported; use PKCS#8 ENCRYPTED PRIVATE KEY");
    }
    try {
      return Base64.getMimeDecoder().decode(b.body().trim());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(path, "malformed PEM block '" + b.type() + "': " + e.getMessage());
    }
  }

  /** Every {@code CERTIFICATE} block, in order (leaf first for a chain). */
  static List<X509Certificate> certificates(byte[] pem, String path) {
    List<X509Certificate> out = new ArrayList<>();
    try {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      for (Block b : blocks(pem)) {
        if (b.type().equals("CERTIFICATE") || b.type().equals("TRUSTED CERTIFICATE")) {
          out.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(decode(b, path))));
        }
      }
    } catch (CertificateException e) {
      throw new ConfigException(path, "failed to load certificate: " + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new ConfigException(path, "failed to load certificate: no PEM CERTIFICATE block found");
    }
    return List.copyOf(out);
  }

  /** Every {@code X509 CRL} block. */
  static List<X509CRL> crls(byte[] pem, String path) {
    List<X509CRL> out = new ArrayList<>();
    try {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      for (Block b : blocks(pem)) {
        if (b.type().equals("X509 CRL")) {
          out.add((X509CRL) cf.generateCRL(new ByteArrayInputStream(decode(b, path))));
        }
      }
    } catch (GeneralSecurityException e) {
      throw new ConfigException(path, "failed to load CRL: " + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new ConfigException(path, "failed to load CRL: no PEM X509 CRL block found");
    }
    return List.copyOf(out);
  }

  /** The first private key block. */
  static PrivateKey privateKey(byte[] pem, char @Nullable [] password, String path) {
    for (Block b : blocks(pem)) {
      byte[] pkcs8;
      switch (b.type()) {
        case "PRIVATE KEY" -> pkcs8 = decode(b, path);
        case "RSA PRIVATE KEY" -> pkcs8 = sequence(der(0x02, new byte[] {0}), RSA_ALGORITHM, der(0x04, decode(b, path)));
        case "EC PRIVATE KEY" -> pkcs8 = wrapSec1(decode(b, path), path);
        case "ENCRYPTED PRIVATE KEY" -> pkcs8 = decrypt(decode(b, path), password, path);
        default -> {
          continue;
        }
      }
      return toKey(pkcs8, path);
    }
    throw new ConfigException(path, "failed to load private key: no PEM private key block found");
  }

  private static PrivateKey toKey(byte[] pkcs8, String path) {
    for (String algorithm : new String[] {"RSA", "EC", "Ed25519", "RSASSA-PSS"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
      } catch (GeneralSecurityException e) {
        // not this algorithm; try the next
      }
    }
    throw new ConfigException(path, "failed to load private key: unsupported or malformed key");
  }

  private static byte[] decrypt(byte[] der, char @Nullable [] password, String path) {
    if (password == null) {
      throw new ConfigException(path, "the private key is encrypted and no password is configured");
    }
    try {
      EncryptedPrivateKeyInfo info = new EncryptedPrivateKeyInfo(der);
      SecretKeyFactory skf = SecretKeyFactory.getInstance(info.getAlgName());
      Cipher cipher = Cipher.getInstance(info.getAlgName());
      cipher.init(Cipher.DECRYPT_MODE, skf.generateSecret(new PBEKeySpec(password)), info.getAlgParameters());
      return info.getKeySpec(cipher).getEncoded();
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new ConfigException(path, "failed to decrypt private key: " + e.getMessage(), e);
    }
  }

  /** SEC1 ECPrivateKey -> PKCS#8, taking the named curve from the key's [0] parameters. */
  private static byte[] wrapSec1(byte[] sec1, String path) {
    try {
      int[] seq = header(sec1, 0); // SEQUENCE
      int p = seq[0];
      p = skip(sec1, p); // version
      p = skip(sec1, p); // privateKey OCTET STRING
      if (p < sec1.length && (sec1[p] & 0xff) == 0xa0) {
        int[] params = header(sec1, p);
        int oidStart = params[0];
        int oidEnd = skip(sec1, oidStart);
        byte[] curve = java.util.Arrays.copyOfRange(sec1, oidStart, oidEnd);
        return sequence(der(0x02, new byte[] {0}), sequence(EC_PUBLIC_KEY_OID, curve), der(0x04, sec1));
      }
    } catch (RuntimeException e) {
      throw new ConfigException(path, "failed to load private key: malformed EC PRIVATE KEY", e);
    }
    throw new ConfigException(path, "failed to load private key: EC PRIVATE KEY without a named curve");
  }

  /** {contentStart, contentLength} of the DER element at {@code p}. */
  private static int[] header(byte[] d, int p) {
    int len = d[p + 1] & 0xff;
    int start = p + 2;
    if (len > 0x80) {
      int n = len & 0x7f;
      len = 0;
      for (int i = 0; i < n; i++) {
        len = (len << 8) | (d[start + i] & 0xff);
      }
      start += n;
    }
    return new int[] {start, len};
  }

  private static int skip(byte[] d, int p) {
    int[] h = header(d, p);
    return h[0] + h[1];
  }

  private static byte[] sequence(byte[]... parts) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      body.writeBytes(part);
    }
    return der(0x30, body.toByteArray());
  }

  private static byte[] der(int tag, byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    int n = content.length;
    if (n < 0x80) {
      out.write(n);
    } else {
      int bytes = n > 0xffffff ? 4 : n > 0xffff ? 3 : n > 0xff ? 2 : 1;
      out.write(0x80 | bytes);
      for (int i = bytes - 1; i >= 0; i--) {
        out.write((n >>> (8 * i)) & 0xff);
      }
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  private static byte[] hex(String s) {
    return java.util.HexFormat.of().parseHex(s);
  }
}
