package dev.sluice.bookinfo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.google.gson.Gson;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** BookinfoMain as a real process, driven by curl and a raw socket. */
class BookinfoMainProcessTest {
  private static final Pattern LISTENING = Pattern.compile("bookinfo ratings v1 listening on 127\\.0\\.0\\.1:(\\d+)");

  @Test
  void badArgumentsExitWithStatus2AndOneLine() throws Exception {
    Process process = java("reviews", "--version", "v9").redirectOutput(ProcessBuilder.Redirect.DISCARD).start();

    assertThat(process.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isEqualTo(2);
    assertThat(new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8))
        .isEqualTo("bookinfo: reviews has no version 'v9' (expected v1, v2, v3)\n");
  }

  @Test
  void servesCurlLogsEachRequestAndSurvivesAMalformedRequest(@TempDir Path dir) throws Exception {
    assumeThat(curl()).as("curl on PATH").isNotNull();
    Process process =
        java("ratings", "--listen", "127.0.0.1:0").redirectErrorStream(true).start();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      Matcher listening = LISTENING.matcher(String.valueOf(out.readLine()));
      assertThat(listening.matches()).isTrue();
      int port = Integer.parseInt(listening.group(1));

      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(5000);
        socket.getOutputStream().write("NOT HTTP AT ALL\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        socket.getInputStream().readAllBytes();
      }
      Path body = dir.resolve("body");
      Process curl =
          new ProcessBuilder(curl(), "-s", "-o", body.toString(), "-w", "%{http_code}", "http://127.0.0.1:" + port + "/ratings/0")
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      assertThat(curl.waitFor(20, TimeUnit.SECONDS)).isTrue();
      assertThat(new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("200");
      assertThat(Files.readString(body)).isEqualTo("{\"id\":0,\"ratings\":{\"Reviewer1\":5,\"Reviewer2\":4}}");
      assertThat(out.readLine()).matches("GET /ratings/0 200 \\d+ms");
      assertThat(process.isAlive()).isTrue();
    } finally {
      process.destroy();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static ProcessBuilder java(String... args) throws Exception {
    String classpath =
        Path.of(BookinfoMain.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            + File.pathSeparator
            + Path.of(Gson.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp", classpath, BookinfoMain.class.getName()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command);
  }

  private static String curl() throws IOException {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Path.of(dir, "curl");
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    return null;
  }
}
