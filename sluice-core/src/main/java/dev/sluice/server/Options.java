package dev.sluice.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The command line, parsed (Envoy's flags; see {@code OptionsParser}). Defaults are Envoy's.
 *
 * @param configPath {@code -c/--config-path}, or null when only {@code --config-yaml} is given
 * @param configYaml {@code --config-yaml}, merged over the file (proto MergeFrom, as Envoy)
 * @param concurrency {@code --concurrency}; default: available processors
 * @param logLevel {@code -l/--log-level}: trace, debug, info, warning|warn, error, critical, off
 * @param componentLogLevels {@code --component-log-level a:lvl,b:lvl}
 * @param logFormat {@code --log-format}, Envoy's spdlog-style pattern, or null for the default
 * @param logPath {@code --log-path}, or null for stderr
 * @param drainTime {@code --drain-time-s} (600 s default)
 * @param drainStrategy {@code --drain-strategy}
 * @param parentShutdownTime {@code --parent-shutdown-time-s} (900 s default; no hot restart here)
 * @param localAddressIpVersion {@code --local-address-ip-version} v4|v6
 * @param fileFlushInterval {@code --file-flush-interval-msec} (10 s default)
 * @param allowUnknownStaticFields {@code --allow-unknown-static-fields}
 * @param rejectUnknownDynamicFields {@code --reject-unknown-dynamic-fields}
 * @param serviceNode {@code --service-node}, overrides {@code node.id}
 * @param serviceCluster {@code --service-cluster}, overrides {@code node.cluster}
 * @param serviceZone {@code --service-zone}, overrides {@code node.locality.zone}
 * @param baseId {@code --base-id} (accepted; no shared memory here)
 * @param mode {@code --mode serve|validate}
 * @param ignoredFlags Envoy flags accepted but without effect here, as given (logged once at start)
 */
public record Options(
    @Nullable Path configPath,
    @Nullable String configYaml,
    int concurrency,
    String logLevel,
    Map<String, String> componentLogLevels,
    @Nullable String logFormat,
    @Nullable Path logPath,
    Duration drainTime,
    DrainStrategy drainStrategy,
    Duration parentShutdownTime,
    IpVersion localAddressIpVersion,
    Duration fileFlushInterval,
    boolean allowUnknownStaticFields,
    boolean rejectUnknownDynamicFields,
    @Nullable String serviceNode,
    @Nullable String serviceCluster,
    @Nullable String serviceZone,
    int baseId,
    Mode mode,
    List<String> ignoredFlags) {

  public enum DrainStrategy {
    GRADUAL,
    IMMEDIATE
  }

  public enum IpVersion {
    V4,
    V6
  }

  public enum Mode {
    SERVE,
    VALIDATE
  }

  /** Envoy's defaults, with a config file; for tests and embedding. */
  public static Options defaults(@Nullable Path configPath) {
    return new Options(
        configPath,
        null,
        Runtime.getRuntime().availableProcessors(),
        "info",
        Map.of(),
        null,
        null,
        Duration.ofSeconds(600),
        DrainStrategy.GRADUAL,
        Duration.ofSeconds(900),
        IpVersion.V4,
        Duration.ofSeconds(10),
        false,
        false,
        null,
        null,
        null,
        0,
        Mode.SERVE,
        List.of());
  }

  public Options withConcurrency(int n) {
    return new Options(configPath, configYaml, n, logLevel, componentLogLevels, logFormat, logPath,
        drainTime, drainStrategy, parentShutdownTime, localAddressIpVersion, fileFlushInterval,
        allowUnknownStaticFields, rejectUnknownDynamicFields, serviceNode, serviceCluster,
        serviceZone, baseId, mode, ignoredFlags);
  }
}
