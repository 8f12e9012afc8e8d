package dev.sluice.accesslog;

import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stream.ResponseFlag;
import dev.sluice.api.stream.StreamInfo;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLogFilter;
import io.envoyproxy.envoy.config.accesslog.v3.ComparisonFilter;
import io.envoyproxy.envoy.config.accesslog.v3.GrpcStatusFilter;
import io.envoyproxy.envoy.config.accesslog.v3.LogTypeFilter;
import io.envoyproxy.envoy.config.accesslog.v3.RuntimeFilter;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogType;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;
import java.util.random.RandomGenerator;

/**
 * Compiles {@code AccessLog.filter} into a predicate over the finished stream. Where StreamInfo
 * lacks what Envoy decides on, the filter answers as Envoy does when that data is absent:
 * {@code not_health_check_filter} passes (nothing marks health checks), {@code traceable_filter}
 * passes, {@code metadata_filter} gives its {@code match_if_key_not_found} (default true), and
 * {@code log_type_filter} sees every record as DownstreamEnd (HTTP) or TcpConnectionEnd (TCP),
 * which is when Sluice logs. Runtime keys are not looked up: defaults apply.
 */
public final class AccessLogFilters {
  private static final AsciiString REQUEST_ID = AsciiString.cached("x-request-id");
  /** Short codes Envoy accepts that Sluice never sets: filtering on them matches nothing. */
  private static final Set<String> UNSET_FLAG_CODES = Set.of("DR", "UDO");

  private AccessLogFilters() {}

  /**
   * @param path the field path of {@code filter}, for errors
   * @param random the source for {@code runtime_filter} sampling
   */
  public static Predicate<StreamInfo> compile(AccessLogFilter filter, String path, RandomGenerator random) {
    return switch (filter.getFilterSpecifierCase()) {
      case STATUS_CODE_FILTER ->
          comparison(filter.getStatusCodeFilter().getComparison(), path + ".status_code_filter.comparison", i -> i.responseCode);
      case DURATION_FILTER ->
          comparison(filter.getDurationFilter().getComparison(), path + ".duration_filter.comparison", AccessLogFilters::durationMillis);
      case NOT_HEALTH_CHECK_FILTER, TRACEABLE_FILTER -> i -> true;
      case RUNTIME_FILTER -> runtime(filter.getRuntimeFilter(), path + ".runtime_filter", random);
      case AND_FILTER -> {
        List<Predicate<StreamInfo>> all = list(filter.getAndFilter().getFiltersList(), path + ".and_filter.filters", random);
        yield i -> {
          for (Predicate<StreamInfo> p : all) {
            if (!p.test(i)) {
              return false;
            }
          }
          return true;
        };
      }
      case OR_FILTER -> {
        List<Predicate<StreamInfo>> any = list(filter.getOrFilter().getFiltersList(), path + ".or_filter.filters", random);
        yield i -> {
          for (Predicate<StreamInfo> p : any) {
            if (p.test(i)) {
              return true;
            }
          }
          return false;
        };
      }
      case HEADER_FILTER -> {
        HeaderMatchPredicate m = HeaderMatchPredicate.compile(filter.getHeaderFilter().getHeader(), path + ".header_filter.header");
        yield i -> m.matches(i.requestHeaders);
      }
      case RESPONSE_FLAG_FILTER -> responseFlags(filter.getResponseFlagFilter().getFlagsList(), path + ".response_flag_filter.flags");
      case GRPC_STATUS_FILTER -> grpcStatus(filter.getGrpcStatusFilter(), path + ".grpc_status_filter");
      case METADATA_FILTER -> {
        boolean ifNotFound =
            !filter.getMetadataFilter().hasMatchIfKeyNotFound() || filter.getMetadataFilter().getMatchIfKeyNotFound().getValue();
        yield i -> ifNotFound;
      }
      case LOG_TYPE_FILTER -> logType(filter.getLogTypeFilter());
      case EXTENSION_FILTER ->
          throw new ConfigException(
              path + ".extension_filter", "unsupported access log filter extension '" + filter.getExtensionFilter().getName() + "'");
      case FILTERSPECIFIER_NOT_SET -> throw new ConfigException(path, "a filter specifier is required");
    };
  }

  private static List<Predicate<StreamInfo>> list(List<AccessLogFilter> filters, String path, RandomGenerator random) {
    if (filters.size() < 2) {
      throw new ConfigException(path, "at least 2 filters are required");
    }
    List<Predicate<StreamInfo>> out = new ArrayList<>();
    for (int i = 0; i < filters.size(); i++) {
      out.add(compile(filters.get(i), path + "[" + i + "]", random));
    }
    return List.copyOf(out);
  }

  private static Predicate<StreamInfo> comparison(ComparisonFilter c, String path, ToLongFunction<StreamInfo> value) {
    if (!c.hasValue()) {
      throw new ConfigException(path + ".value", "a value is required");
    }
    long v = c.getValue().getDefaultValue();
    return switch (c.getOp()) {
      case EQ -> i -> value.applyAsLong(i) == v;
      case GE -> i -> value.applyAsLong(i) >= v;
      case LE -> i -> value.applyAsLong(i) <= v;
      case UNRECOGNIZED -> throw new ConfigException(path + ".op", "unknown comparison op");
    };
  }

  /** The stream's duration, or for a stream still running (periodic logs) its age, in ms. */
  private static long durationMillis(StreamInfo info) {
    long nanos = info.endNanos != 0 ? info.endNanos - info.startNanos : System.nanoTime() - info.startNanos;
    return nanos / 1_000_000L;
  }

  /**
   * Envoy's runtime_filter: sampled when {@code r % denominator < numerator}, where {@code r}
   * comes from the x-request-id (its first 8 hex digits, so that every proxy on the request's
   * path decides alike) unless {@code use_independent_randomness} or no usable id, then random.
   */
  private static Predicate<StreamInfo> runtime(RuntimeFilter f, String path, RandomGenerator random) {
    if (f.getRuntimeKey().isEmpty()) {
      throw new ConfigException(path + ".runtime_key", "runtime_key is required");
    }
    long numerator = f.hasPercentSampled() ? f.getPercentSampled().getNumerator() : 0;
    long denominator = denominator(f.getPercentSampled().getDenominator(), path + ".percent_sampled.denominator");
    boolean independent = f.getUseIndependentRandomness();
    return info -> {
      long r = independent ? -1 : requestIdValue(info);
      if (r < 0) {
        r = random.nextLong(Long.MAX_VALUE);
      }
      return r % denominator < numerator;
    };
  }

  private static long denominator(FractionalPercent.DenominatorType d, String path) {
    return switch (d) {
      case HUNDRED -> 100;
      case TEN_THOUSAND -> 10_000;
      case MILLION -> 1_000_000;
      case UNRECOGNIZED -> throw new ConfigException(path, "unknown denominator");
    };
  }

  /** The first 8 hex digits of x-request-id as a number, or -1. */
  private static long requestIdValue(StreamInfo info) {
    CharSequence id = info.requestHeaders == null ? null : info.requestHeaders.get(REQUEST_ID);
    if (id == null || id.length() < 8) {
      return -1;
    }
    long v = 0;
    for (int i = 0; i < 8; i++) {
      int d = Character.digit(id.charAt(i), 16);
      if (d < 0) {
        return -1;
      }
      v = v * 16 + d;
    }
    return v;
  }

  private static Predicate<StreamInfo> responseFlags(List<String> codes, String path) {
    if (codes.isEmpty()) {
      return i -> i.responseFlags != 0;
    }
    long mask = 0;
    for (int n = 0; n < codes.size(); n++) {
      String code = codes.get(n);
      ResponseFlag flag = null;
      for (ResponseFlag f : ResponseFlag.values()) {
        if (f.code().equals(code)) {
          flag = f;
        }
      }
      if (flag != null) {
        mask |= 1L << flag.ordinal();
      } else if (!UNSET_FLAG_CODES.contains(code)) {
        throw new ConfigException(path + "[" + n + "]", "unknown response flag '" + code + "'");
      }
    }
    long m = mask;
    return i -> (i.responseFlags & m) != 0;
  }

  private static Predicate<StreamInfo> grpcStatus(GrpcStatusFilter f, String path) {
    boolean[] listed = new boolean[17];
    for (int n = 0; n < f.getStatusesCount(); n++) {
      GrpcStatusFilter.Status s = f.getStatuses(n);
      if (s == GrpcStatusFilter.Status.UNRECOGNIZED) {
        throw new ConfigException(path + ".statuses[" + n + "]", "unknown gRPC status");
      }
      listed[s.getNumber()] = true;
    }
    boolean exclude = f.getExclude();
    return info -> {
      int s = GrpcStatuses.of(info);
      if (s == GrpcStatuses.NONE) {
        s = GrpcStatuses.UNKNOWN;
      }
      boolean found = s >= 0 && s < listed.length && listed[s];
      return found != exclude;
    };
  }

  private static Predicate<StreamInfo> logType(LogTypeFilter f) {
    boolean http = f.getTypesList().contains(AccessLogType.DownstreamEnd);
    boolean tcp = f.getTypesList().contains(AccessLogType.TcpConnectionEnd);
    boolean exclude = f.getExclude();
    return info -> (info.protocol == null ? tcp : http) != exclude;
  }
}
