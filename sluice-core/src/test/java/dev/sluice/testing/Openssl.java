package dev.sluice.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the {@code openssl} command for test certificates (BouncyCastle's certificate builder is not
 * available, and Netty's SelfSignedCertificate needs it on JDK 25).
 */
public final class Openssl {
  private Openssl() {}

  /**
   * Runs {@code openssl args...} in {@code dir}.
   *
   * @throws IOException with openssl's output when it fails or takes over a minute
   */
  public static void run(Path dir, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add("openssl");
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("openssl " + String.join(" ", args) + " failed: " + new String(out, StandardCharsets.UTF_8));
    }
  }

  /** A certificate and its private key, as PEM text. */
  public record Pem(String certificate, String key) {}

  /**
   * Makes a self-signed P-256 certificate for {@code CN=cn}, valid 30 days, with {@code moreArgs}
   * added to {@code openssl req} (e.g. {@code -addext}); writes {@code cn.crt} and {@code cn.key}
   * in {@code dir} and returns their text.
   */
  public static Pem selfSigned(Path dir, String cn, String... moreArgs) throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(List.of("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", cn + ".key", "-out", cn + ".crt", "-subj", "/CN=" + cn, "-days", "30"));
    args.addAll(List.of(moreArgs));
    run(dir, args.toArray(String[]::new));
    return new Pem(Files.readString(dir.resolve(cn + ".crt")), Files.readString(dir.resolve(cn + ".key")));
  }
}
