package dev.sluice.accesslog;

import com.google.common.net.InetAddresses;
import dev.sluice.accesslog.AddressOperator.Part;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stream.StreamInfo;
import io.netty.handler.codec.http2.Http2Headers;
import java.net.InetSocketAddress;
import java.time.ZoneId;
import java.time.zone.ZoneRules;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Envoy's built-in command operators, by name. Every operator Envoy documents is accepted; those
 * whose data {@link StreamInfo} does not carry (see {@link #ABSENT_OPERATORS}) render as absent
 * ({@code -}). Anything else is rejected as Envoy rejects it: "Not supported field in StreamInfo".
 */
final class CommandOperators {
  /**
   * Operators Envoy knows but Sluice has no data for: metadata, filter state, CEL, TLS details,
   * trace ids, wire/header byte meters, and timings StreamInfo does not record.
   */
  static final Set<String> ABSENT_OPERATORS =
      Set.of(
          "DYNAMIC_METADATA", "CLUSTER_METADATA", "UPSTREAM_METADATA", "METADATA",
          "FILTER_STATE", "UPSTREAM_FILTER_STATE", "CEL", "TYPED_CEL", "COALESCE",
          "UPSTREAM_PROTOCOL", "VIRTUAL_CLUSTER_NAME", "UPSTREAM_CONNECTION_ID", "TRACE_ID",
          "LOCAL_REPLY_BODY", "FILTER_CHAIN_NAME", "CUSTOM_FLAGS",
          "UPSTREAM_HEADER_BYTES_SENT", "UPSTREAM_HEADER_BYTES_RECEIVED",
          "UPSTREAM_DECOMPRESSED_HEADER_BYTES_SENT", "UPSTREAM_DECOMPRESSED_HEADER_BYTES_RECEIVED",
          "DOWNSTREAM_WIRE_BYTES_SENT", "DOWNSTREAM_WIRE_BYTES_RECEIVED",
          "DOWNSTREAM_HEADER_BYTES_SENT", "DOWNSTREAM_HEADER_BYTES_RECEIVED",
          "DOWNSTREAM_DECOMPRESSED_HEADER_BYTES_SENT", "DOWNSTREAM_DECOMPRESSED_HEADER_BYTES_RECEIVED",
          "BYTES_RETRANSMITTED", "PACKETS_RETRANSMITTED",
          "ROUNDTRIP_DURATION", "DOWNSTREAM_HANDSHAKE_DURATION",
          "UPSTREAM_CONNECTION_POOL_READY_DURATION", "COMMON_DURATION",
          "DOWNSTREAM_TRANSPORT_FAILURE_REASON", "DOWNSTREAM_LOCAL_CLOSE_REASON",
          "DOWNSTREAM_DETECTED_CLOSE_TYPE",
          "UPSTREAM_REMOTE_ADDRESS_ENDPOINT_ID", "DOWNSTREAM_LOCAL_ADDRESS_ENDPOINT_ID",
          "DOWNSTREAM_DIRECT_LOCAL_ADDRESS_ENDPOINT_ID",
          "DOWNSTREAM_LOCAL_IP_SAN", "DOWNSTREAM_PEER_IP_SAN", "DOWNSTREAM_LOCAL_DNS_SAN",
          "DOWNSTREAM_PEER_DNS_SAN", "DOWNSTREAM_LOCAL_URI_SAN", "DOWNSTREAM_PEER_URI_SAN",
          "DOWNSTREAM_LOCAL_EMAIL_SAN", "DOWNSTREAM_PEER_EMAIL_SAN", "DOWNSTREAM_LOCAL_OTHERNAME_SAN",
          "DOWNSTREAM_PEER_OTHERNAME_SAN", "DOWNSTREAM_LOCAL_SUBJECT", "DOWNSTREAM_PEER_SUBJECT",
          "DOWNSTREAM_PEER_ISSUER", "DOWNSTREAM_TLS_SESSION_ID", "DOWNSTREAM_TLS_CIPHER",
          "DOWNSTREAM_TLS_VERSION", "DOWNSTREAM_PEER_FINGERPRINT_256", "DOWNSTREAM_PEER_FINGERPRINT_1",
          "DOWNSTREAM_PEER_SERIAL", "DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_256",
          "DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_1", "DOWNSTREAM_PEER_CHAIN_SERIALS",
          "DOWNSTREAM_PEER_CERT", "DOWNSTREAM_PEER_CERT_V_START", "DOWNSTREAM_PEER_CERT_V_END",
          "TLS_JA3_FINGERPRINT", "TLS_JA4_FINGERPRINT",
          "UPSTREAM_PEER_SUBJECT", "UPSTREAM_PEER_ISSUER", "UPSTREAM_TLS_SESSION_ID",
          "UPSTREAM_TLS_CIPHER", "UPSTREAM_TLS_VERSION", "UPSTREAM_PEER_CERT",
          "UPSTREAM_PEER_CERT_V_START", "UPSTREAM_PEER_CERT_V_END", "UPSTREAM_PEER_URI_SAN",
          "UPSTREAM_PEER_DNS_SAN", "UPSTREAM_PEER_IP_SAN", "UPSTREAM_LOCAL_URI_SAN",
          "UPSTREAM_LOCAL_DNS_SAN", "UPSTREAM_LOCAL_IP_SAN");

  private static final Function<StreamInfo, @Nullable Http2Headers> REQUEST_HEADERS = i -> i.requestHeaders;
  private static final Function<StreamInfo, @Nullable Http2Headers> RESPONSE_HEADERS = i -> i.responseHeaders;
  private static final Function<StreamInfo, @Nullable Http2Headers> RESPONSE_TRAILERS = i -> i.responseTrailers;

  private CommandOperators() {}

  /**
   * The operator for {@code %COMMAND(arg)%}; {@code arg} is null when there were no parentheses.
   *
   * @throws ConfigException (empty path) for an unknown command or a bad argument
   */
  static CommandOperator create(String command, @Nullable String arg) {
    if (ABSENT_OPERATORS.contains(command)) {
      return CommandOperator.ABSENT;
    }
    CommandOperator op =
        switch (command) {
          case "START_TIME" -> new TimeOperator(timeFormat(arg), false);
          case "START_TIME_LOCAL" -> new TimeOperator(timeFormat(arg), true);
          case "EMIT_TIME" -> TimeOperator.emitTime(timeFormat(arg), false);
          case "EMIT_TIME_LOCAL" -> TimeOperator.emitTime(timeFormat(arg), true);
          case "REQ", "REQUEST_HEADER" -> HeaderOperator.parse(command, arg, REQUEST_HEADERS, false);
          case "RESP", "RESPONSE_HEADER" -> HeaderOperator.parse(command, arg, RESPONSE_HEADERS, false);
          case "TRAILER", "RESPONSE_TRAILER" -> HeaderOperator.parse(command, arg, RESPONSE_TRAILERS, false);
          case "REQ_WITHOUT_QUERY" -> HeaderOperator.parse(command, arg, REQUEST_HEADERS, true);
          case "REQUEST_HEADERS_BYTES" -> new NumberOperator(i -> headerBytes(i.requestHeaders));
          case "RESPONSE_HEADERS_BYTES" -> new NumberOperator(i -> headerBytes(i.responseHeaders));
          case "RESPONSE_TRAILERS_BYTES" -> new NumberOperator(i -> headerBytes(i.responseTrailers));
          case "BYTES_RECEIVED" -> new NumberOperator(i -> i.bytesReceived);
          case "BYTES_SENT" -> new NumberOperator(i -> i.bytesSent);
          case "UPSTREAM_WIRE_BYTES_SENT" -> new NumberOperator(i -> i.upstreamBytesSent);
          case "UPSTREAM_WIRE_BYTES_RECEIVED" -> new NumberOperator(i -> i.upstreamBytesReceived);
          case "PROTOCOL" -> new TextOperator(i -> i.protocol);
          // Envoy logs 0 when no response was sent (client disconnect, TCP).
          case "RESPONSE_CODE" -> new NumberOperator(i -> i.responseCode);
          case "RESPONSE_CODE_DETAILS" -> responseCodeDetails(arg);
          case "CONNECTION_TERMINATION_DETAILS" -> new TextOperator(i -> i.connectionTerminationDetails);
          case "UPSTREAM_REQUEST_ATTEMPT_COUNT" -> new NumberOperator(i -> i.attemptCount);
          case "DURATION" -> new NumberOperator(i -> NumberOperator.millisBetween(i.startNanos, i.endNanos));
          case "REQUEST_DURATION" ->
              new NumberOperator(i -> NumberOperator.millisBetween(i.startNanos, i.lastDownstreamRxNanos));
          case "REQUEST_TX_DURATION" ->
              new NumberOperator(i -> NumberOperator.millisBetween(i.startNanos, i.lastUpstreamTxNanos));
          case "RESPONSE_DURATION" ->
              new NumberOperator(i -> NumberOperator.millisBetween(i.startNanos, i.firstUpstreamRxNanos));
          case "RESPONSE_TX_DURATION" ->
              new NumberOperator(i -> NumberOperator.millisBetween(i.firstUpstreamRxNanos, i.lastDownstreamTxNanos));
          case "RESPONSE_FLAGS" -> responseFlags(false);
          case "RESPONSE_FLAGS_LONG" -> responseFlags(true);
          case "ROUTE_NAME" -> new TextOperator(i -> i.routeName);
          case "UPSTREAM_HOST", "UPSTREAM_HOST_NAME", "UPSTREAM_REMOTE_ADDRESS" -> new TextOperator(i -> i.upstreamHost);
          case "UPSTREAM_HOST_NAME_WITHOUT_PORT" ->
              AddressOperator.of(command, null, Part.WITHOUT_PORT, CommandOperators::upstreamRemote);
          case "UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT" ->
              AddressOperator.of(command, arg, Part.WITHOUT_PORT, CommandOperators::upstreamRemote);
          case "UPSTREAM_REMOTE_PORT" -> AddressOperator.of(command, arg, Part.PORT, CommandOperators::upstreamRemote);
          case "UPSTREAM_CLUSTER", "UPSTREAM_CLUSTER_RAW" -> new TextOperator(i -> i.upstreamCluster);
          case "UPSTREAM_LOCAL_ADDRESS" -> AddressOperator.of(command, arg, Part.FULL, i -> i.upstreamLocalAddress);
          case "UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT" ->
              AddressOperator.of(command, arg, Part.WITHOUT_PORT, i -> i.upstreamLocalAddress);
          case "UPSTREAM_LOCAL_PORT" -> AddressOperator.of(command, arg, Part.PORT, i -> i.upstreamLocalAddress);
          case "UPSTREAM_TRANSPORT_FAILURE_REASON" -> new TextOperator(i -> i.upstreamTransportFailureReason);
          case "DOWNSTREAM_REMOTE_ADDRESS" -> AddressOperator.of(command, arg, Part.FULL, CommandOperators::remote);
          case "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT" ->
              AddressOperator.of(command, arg, Part.WITHOUT_PORT, CommandOperators::remote);
          case "DOWNSTREAM_REMOTE_PORT" -> AddressOperator.of(command, arg, Part.PORT, CommandOperators::remote);
          case "DOWNSTREAM_DIRECT_REMOTE_ADDRESS" ->
              AddressOperator.of(command, arg, Part.FULL, CommandOperators::directRemote);
          case "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT" ->
              AddressOperator.of(command, arg, Part.WITHOUT_PORT, CommandOperators::directRemote);
          case "DOWNSTREAM_DIRECT_REMOTE_PORT" -> AddressOperator.of(command, arg, Part.PORT, CommandOperators::directRemote);
          // Without the PROXY protocol the "direct" local address is the local address.
          case "DOWNSTREAM_LOCAL_ADDRESS", "DOWNSTREAM_DIRECT_LOCAL_ADDRESS" ->
              AddressOperator.of(command, arg, Part.FULL, i -> i.downstreamLocalAddress);
          case "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", "DOWNSTREAM_DIRECT_LOCAL_ADDRESS_WITHOUT_PORT" ->
              AddressOperator.of(command, arg, Part.WITHOUT_PORT, i -> i.downstreamLocalAddress);
          case "DOWNSTREAM_LOCAL_PORT", "DOWNSTREAM_DIRECT_LOCAL_PORT" ->
              AddressOperator.of(command, arg, Part.PORT, i -> i.downstreamLocalAddress);
          case "REQUESTED_SERVER_NAME" -> RequestedServerNameOperator.parse(arg);
          case "CONNECTION_ID" -> new NumberOperator(i -> i.connectionId);
          // For HTTP Envoy's stream id is the x-request-id.
          case "STREAM_ID" -> new TextOperator(i -> i.requestId);
          case "GRPC_STATUS" -> grpcStatus(arg);
          case "GRPC_STATUS_NUMBER" -> new NumberOperator(CommandOperators::grpcStatusNumber);
          case "HOSTNAME" -> constant(Hostname.get());
          case "ENVIRONMENT" -> environment(arg);
          case "ACCESS_LOG_TYPE" -> new TextOperator(i -> i.protocol == null ? "TcpConnectionEnd" : "DownstreamEnd");
          case "UNIQUE_ID" -> new TextOperator(i -> randomUuid());
          case "QUERY_PARAM" -> PathOperators.queryParam(arg);
          case "PATH" -> PathOperators.path(arg);
          default -> null;
        };
    if (op == null) {
      throw new ConfigException("", "Not supported field in StreamInfo: " + command);
    }
    return op;
  }

  private static TimeFormat timeFormat(@Nullable String arg) {
    return arg == null || arg.isEmpty() ? TimeFormat.DEFAULT : TimeFormat.compile(arg);
  }

  private static CommandOperator responseCodeDetails(@Nullable String arg) {
    if (arg != null && !arg.isEmpty() && !arg.equals("ALLOW_WHITESPACES")) {
      throw new ConfigException("", "RESPONSE_CODE_DETAILS: invalid argument '" + arg + "'");
    }
    if (arg != null && !arg.isEmpty()) {
      return new TextOperator(i -> i.responseCodeDetails);
    }
    // Envoy replaces whitespace so the details stay one token in text logs.
    return new TextOperator(
        i -> {
          String d = i.responseCodeDetails;
          return d == null ? null : d.replace(' ', '_').replace('\t', '_');
        });
  }

  private static CommandOperator responseFlags(boolean longNames) {
    return new CommandOperator() {
      @Override
      boolean append(StreamInfo info, StringBuilder out) {
        // Envoy's ResponseFlagUtils renders "no flags" as the string "-", a value, not an absent
        // one: json_format shows "-" (not null) and omit_empty_values keeps it.
        if (!ResponseFlagNames.append(info.responseFlags, longNames, out)) {
          out.append('-');
        }
        return true;
      }
    };
  }

  private static CommandOperator grpcStatus(@Nullable String arg) {
    String style = arg == null || arg.isEmpty() ? "CAMEL_STRING" : arg;
    if (style.equals("NUMBER")) {
      return new NumberOperator(CommandOperators::grpcStatusNumber);
    }
    if (!style.equals("CAMEL_STRING") && !style.equals("SNAKE_STRING")) {
      throw new ConfigException("", "GRPC_STATUS: invalid format '" + arg + "', expected CAMEL_STRING, SNAKE_STRING or NUMBER");
    }
    String[] names = style.equals("CAMEL_STRING") ? GrpcStatuses.CAMEL : GrpcStatuses.SNAKE;
    return new CommandOperator() {
      @Override
      boolean append(StreamInfo info, StringBuilder out) {
        long s = grpcStatusNumber(info);
        if (s < 0) {
          return false;
        }
        if (s < names.length) {
          out.append(names[(int) s]);
        } else {
          out.append(s);
        }
        return true;
      }
    };
  }

  /** The gRPC status of a gRPC request, or -1 (absent) for other requests, as Envoy logs it. */
  private static long grpcStatusNumber(StreamInfo info) {
    if (!GrpcStatuses.isGrpcRequest(info)) {
      return -1;
    }
    int s = GrpcStatuses.of(info);
    return s < 0 ? -1 : s;
  }

  private static CommandOperator environment(@Nullable String arg) {
    if (arg == null || arg.isEmpty()) {
      throw new ConfigException("", "ENVIRONMENT requires a variable name");
    }
    // Resolved once at config time, as Envoy does.
    String value = System.getenv(arg);
    return value == null ? CommandOperator.ABSENT : constant(value);
  }

  private static CommandOperator constant(String value) {
    return new TextOperator(i -> value);
  }

  /** Envoy's header map byteSize(): the sum of name and value lengths. */
  private static long headerBytes(@Nullable Http2Headers headers) {
    if (headers == null) {
      return 0;
    }
    long n = 0;
    for (var e : headers) {
      n += e.getKey().length() + e.getValue().length();
    }
    return n;
  }

  // Each remote address falls back on the other: without x-forwarded-for trust or the PROXY
  // protocol they are the same address, and a connection may have set only one of them.
  private static @Nullable InetSocketAddress remote(StreamInfo info) {
    return info.downstreamRemoteAddress != null
        ? info.downstreamRemoteAddress
        : info.downstreamDirectRemoteAddress;
  }

  private static @Nullable InetSocketAddress directRemote(StreamInfo info) {
    return info.downstreamDirectRemoteAddress != null
        ? info.downstreamDirectRemoteAddress
        : info.downstreamRemoteAddress;
  }

  /** The upstream host ({@code ip:port} or {@code [v6]:port}) as an address, or null. */
  private static @Nullable InetSocketAddress upstreamRemote(StreamInfo info) {
    String host = info.upstreamHost;
    if (host == null) {
      return null;
    }
    int colon = host.lastIndexOf(':');
    if (colon <= 0) {
      return null;
    }
    String ip = host.startsWith("[") && host.charAt(colon - 1) == ']' ? host.substring(1, colon - 1) : host.substring(0, colon);
    try {
      return new InetSocketAddress(InetAddresses.forString(ip), Integer.parseInt(host, colon + 1, host.length(), 10));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static String randomUuid() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    // Version 4, IETF variant, as Envoy's random UUIDs.
    long msb = (r.nextLong() & ~0xF000L) | 0x4000L;
    long lsb = (r.nextLong() & ~(0xC000_0000_0000_0000L)) | 0x8000_0000_0000_0000L;
    return new UUID(msb, lsb).toString();
  }

  /** The system's zone rules for the {@code _LOCAL} time operators. */
  static ZoneRules localZone() {
    return ZoneId.systemDefault().getRules();
  }
}
