package dev.sluice.it.routing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A minimal HTTP/1.1 client on one keep-alive connection to 127.0.0.1, reconnecting when the
 * server closed it. Unlike {@code java.net.http} it sends any header as given, {@code Host}
 * included, which virtual host matching needs.
 */
final class RawHttp implements AutoCloseable {
  private final int port;
  private final @Nullable InetAddress localAddress;
  private @Nullable Socket socket;
  private @Nullable InputStream in;
  private @Nullable OutputStream out;

  RawHttp(int port) {
    this(port, null);
  }

  /** @param localAddress the source address to connect from (another 127.0.0.0/8 address), or null */
  RawHttp(int port, @Nullable InetAddress localAddress) {
    this.port = port;
    this.localAddress = localAddress;
  }

  /** A response: status, headers (lower-case names, values in order) and the body as text. */
  record Response(int status, Map<String, List<String>> headers, String body) {
    @Nullable String header(String name) {
      List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
      return v == null ? null : v.getFirst();
    }

    List<String> headers(String name) {
      return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
    }

    String backend() {
      return String.valueOf(header("x-backend"));
    }
  }

  Response get(String host, String path, String... headerLines) throws IOException {
    return send("GET", host, path, headerLines);
  }

  /** One request; {@code headerLines} are "name: value" strings sent as they are. */
  Response send(String method, String host, String path, String... headerLines) throws IOException {
    StringBuilder req = new StringBuilder();
    req.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
    req.append("host: ").append(host).append("\r\n");
    for (String h : headerLines) {
      req.append(h).append("\r\n");
    }
    if (method.equals("POST") || method.equals("PUT")) {
      req.append("content-length: 0\r\n");
    }
    req.append("\r\n");
    connect();
    out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    Response r = read(method.equals("HEAD"));
    List<String> conn = r.headers("connection");
    if (conn.contains("close")) {
      close();
    }
    return r;
  }

  /** The client's local port on the current connection (opening one if needed). */
  int localPort() throws IOException {
    connect();
    return socket.getLocalPort();
  }

  private void connect() throws IOException {
    if (socket == null) {
      socket = localAddress == null
          ? new Socket(InetAddress.getLoopbackAddress(), port)
          : new Socket(InetAddress.getLoopbackAddress(), port, localAddress, 0);
      socket.setSoTimeout(20_000);
      socket.setTcpNoDelay(true);
      in = new BufferedInputStream(socket.getInputStream());
      out = socket.getOutputStream();
    }
  }

  private Response read(boolean head) throws IOException {
    String statusLine = line();
    if (statusLine == null) {
      close();
      throw new IOException("connection closed before a response");
    }
    int status = Integer.parseInt(statusLine.split(" ")[1]);
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (String l = line(); l != null && !l.isEmpty(); l = line()) {
      int colon = l.indexOf(':');
      headers.computeIfAbsent(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
          .add(l.substring(colon + 1).trim());
    }
    byte[] body;
    List<String> length = headers.get("content-length");
    List<String> te = headers.get("transfer-encoding");
    if (head || status == 204 || status == 304) {
      body = new byte[0];
    } else if (te != null && te.getFirst().equalsIgnoreCase("chunked")) {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      while (true) {
        int n = Integer.parseInt(line().split(";")[0].trim(), 16);
        if (n == 0) {
          while (!line().isEmpty()) {
            // trailers: ignored
          }
          break;
        }
        b.write(in.readNBytes(n));
        line();
      }
      body = b.toByteArray();
    } else if (length != null) {
      body = in.readNBytes(Integer.parseInt(length.getFirst()));
    } else {
      body = in.readAllBytes();
      close();
    }
    return new Response(status, headers, new String(body, StandardCharsets.UTF_8));
  }

  private @Nullable String line() throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') {
        int n = sb.length();
        return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
      }
      sb.append((char) c);
    }
    return sb.isEmpty() ? null : sb.toString();
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException e) {
        // closing anyway
      }
      socket = null;
    }
  }
}
