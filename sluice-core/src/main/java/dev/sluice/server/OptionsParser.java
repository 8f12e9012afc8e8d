package dev.sluice.server;

import dev.sluice.server.Options.DrainStrategy;
import dev.sluice.server.Options.IpVersion;
import dev.sluice.server.Options.Mode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * Envoy's command line (same flag names, values and defaults; see Envoy's
 * {@code source/server/options_impl.cc}) into {@link Options}. Flags of Envoy that mean nothing
 * here (hot restart, shared memory, mutex tracing, ...) are accepted and listed in
 * {@link Options#ignoredFlags()} so that pilot-agent's usual command line starts Sluice unchanged.
 */
public final class OptionsParser {
  /** Envoy flags accepted without effect that take no value. */
  private static final List<String> IGNORED_SWITCHES = List.of(
      "--disable-hot-restart", "--hot-restart-version", "--use-dynamic-base-id",
      "--cpuset-threads", "--enable-mutex-tracing", "--log-format-escaped",
      "--enable-fine-grain-logging", "--ignore-unknown-dynamic-fields", "--enable-core-dump",
      "--skip-hot-restart-on-no-parent", "--skip-hot-restart-parent-stats");
  /** Envoy flags accepted without effect that take one value. */
  private static final List<String> IGNORED_WITH_VALUE = List.of(
      "--restart-epoch", "--base-id-path", "--disable-extensions", "--bootstrap-version",
      "--socket-path", "--socket-mode", "--stats-tag", "--max-obj-name-len", "--max-stats",
      "--log-format-prefix-with-location");

  private OptionsParser() {}

  /** What the command line asks for. */
  public sealed interface Outcome {}

  /** Run with these options. */
  public record Parsed(Options options) implements Outcome {}

  /** Print {@code text} to stdout and exit 0 ({@code --help}, {@code --version}). */
  public record Printed(String text) implements Outcome {}

  /** Print {@code message} (one line) to stderr and exit 1. */
  public record Invalid(String message) implements Outcome {}

  public static Outcome parse(String... args) {
    Flags flags = new Flags();
    CommandLine cli = new CommandLine(flags);
    CommandSpec spec = cli.getCommandSpec();
    for (String name : IGNORED_SWITCHES) {
      spec.addOption(OptionSpec.builder(name).arity("0").type(boolean.class).hidden(true).build());
    }
    for (String name : IGNORED_WITH_VALUE) {
      spec.addOption(OptionSpec.builder(name).arity("1").type(String.class)
          .hidden(true).paramLabel("<ignored>").build());
    }
    cli.setOverwrittenOptionsAllowed(true); // Envoy (TCLAP) takes the last occurrence
    ParseResult result;
    try {
      result = cli.parseArgs(args);
    } catch (ParameterException e) {
      return new Invalid(oneLine(e.getMessage()));
    }
    if (result.isUsageHelpRequested()) {
      StringWriter usage = new StringWriter();
      cli.usage(new PrintWriter(usage));
      return new Printed(usage.toString());
    }
    if (result.isVersionHelpRequested()) {
      return new Printed(versionLine() + "\n");
    }
    try {
      return new Parsed(flags.toOptions(ignored(result)));
    } catch (IllegalArgumentException e) {
      return new Invalid(oneLine(e.getMessage()));
    }
  }

  /** Envoy's {@code --version} line shape: {@code <binary>  version: <sha>/<version>/<state>/<build>/<ssl>}. */
  public static String versionLine() {
    String v = OptionsParser.class.getPackage().getImplementationVersion();
    String version = v == null ? "dev" : v;
    return "sluice  version: " + version + "/" + version + "/Clean/RELEASE/BoringSSL";
  }

  private static List<String> ignored(ParseResult result) {
    List<String> out = new ArrayList<>();
    for (OptionSpec o : result.matchedOptions()) {
      String name = o.longestName();
      if (IGNORED_SWITCHES.contains(name)) {
        out.add(name);
      } else if (IGNORED_WITH_VALUE.contains(name)) {
        for (String value : o.originalStringValues()) {
          out.add(name + " " + value);
        }
      }
    }
    return List.copyOf(out);
  }

  private static String oneLine(@Nullable String s) {
    return s == null ? "invalid command line" : s.strip().replace('\n', ' ');
  }

  @CommandLine.Command(name = "sluice", mixinStandardHelpOptions = true,
      versionProvider = VersionProvider.class,
      description = "A service-mesh data plane driven by Envoy v3 configuration.")
  private static final class Flags {
    @Option(names = {"-c", "--config-path"}, paramLabel = "FILE",
        description = "Bootstrap file (JSON, or YAML for .yaml/.yml).")
    @Nullable Path configPath;

    @Option(names = "--config-yaml", paramLabel = "YAML",
        description = "Bootstrap YAML merged over the file (proto MergeFrom).")
    @Nullable String configYaml;

    @Option(names = "--concurrency", paramLabel = "N", description = "Worker threads (default: cores).")
    @Nullable Integer concurrency;

    @Option(names = {"-l", "--log-level"}, paramLabel = "LEVEL",
        description = "trace, debug, info, warning|warn, error, critical, off (default info).")
    String logLevel = "info";

    @Option(names = "--component-log-level", paramLabel = "C:L,...",
        description = "Per-component levels, e.g. upstream:debug,config:trace.")
    @Nullable String componentLogLevel;

    @Option(names = "--log-format", paramLabel = "FORMAT", description = "spdlog-style log line format.")
    @Nullable String logFormat;

    @Option(names = "--log-path", paramLabel = "FILE", description = "Log file (default stderr).")
    @Nullable Path logPath;

    @Option(names = "--drain-time-s", paramLabel = "S", description = "Drain time (default 600).")
    long drainTimeS = 600;

    @Option(names = "--drain-strategy", paramLabel = "gradual|immediate",
        description = "Drain strategy (default gradual).")
    String drainStrategy = "gradual";

    @Option(names = "--parent-shutdown-time-s", paramLabel = "S",
        description = "Hot-restart parent shutdown time (default 900; kept for compatibility).")
    long parentShutdownTimeS = 900;

    @Option(names = "--local-address-ip-version", paramLabel = "v4|v6",
        description = "Local address IP version (default v4).")
    String localAddressIpVersion = "v4";

    @Option(names = "--file-flush-interval-msec", paramLabel = "MS",
        description = "Access log flush interval (default 10000).")
    long fileFlushIntervalMsec = 10_000;

    @Option(names = {"--allow-unknown-static-fields", "--allow-unknown-fields"},
        description = "Ignore unknown fields in the bootstrap.")
    boolean allowUnknownStaticFields;

    @Option(names = "--reject-unknown-dynamic-fields",
        description = "Reject unknown fields in xDS resources.")
    boolean rejectUnknownDynamicFields;

    @Option(names = "--service-node", paramLabel = "ID", description = "Overrides node.id.")
    @Nullable String serviceNode;

    @Option(names = "--service-cluster", paramLabel = "NAME", description = "Overrides node.cluster.")
    @Nullable String serviceCluster;

    @Option(names = "--service-zone", paramLabel = "ZONE", description = "Overrides node.locality.zone.")
    @Nullable String serviceZone;

    @Option(names = "--base-id", paramLabel = "N", description = "Shared memory base id (no effect).")
    long baseId;

    @Option(names = "--mode", paramLabel = "serve|validate", description = "serve (default) or validate.")
    String mode = "serve";

    Options toOptions(List<String> ignoredFlags) {
      String level = Logging.checkLevel(logLevel);
      Map<String, String> components = componentLevels(componentLogLevel);
      int workers = concurrency == null
          ? Runtime.getRuntime().availableProcessors()
          // As Envoy: 0 means one worker.
          : (int) Math.max(1, nonNegative("--concurrency", concurrency));
      return new Options(configPath, configYaml, workers, level, components, logFormat, logPath,
          Duration.ofSeconds(nonNegative("--drain-time-s", drainTimeS)),
          drainStrategy(drainStrategy),
          Duration.ofSeconds(nonNegative("--parent-shutdown-time-s", parentShutdownTimeS)),
          ipVersion(localAddressIpVersion),
          Duration.ofMillis(nonNegative("--file-flush-interval-msec", fileFlushIntervalMsec)),
          allowUnknownStaticFields, rejectUnknownDynamicFields, serviceNode, serviceCluster,
          serviceZone, (int) Math.min(Integer.MAX_VALUE, nonNegative("--base-id", baseId)),
          mode(mode), ignoredFlags);
    }
  }

  /** Parses {@code a:lvl,b:lvl}, as Envoy: malformed pairs, unknown levels and components fail. */
  static Map<String, String> componentLevels(@Nullable String spec) {
    Map<String, String> out = new LinkedHashMap<>();
    if (spec == null || spec.isEmpty()) {
      return out;
    }
    for (String pair : spec.split(",", -1)) {
      String[] parts = pair.split(":", -1);
      if (parts.length != 2) {
        throw new IllegalArgumentException(
            "--component-log-level: component log level not correctly specified '" + pair + "'");
      }
      if (!Logging.COMPONENTS.contains(parts[0])) {
        throw new IllegalArgumentException(
            "--component-log-level: invalid component specified '" + parts[0] + "'");
      }
      out.put(parts[0], Logging.checkLevel(parts[1], "--component-log-level"));
    }
    return out;
  }

  private static long nonNegative(String flag, long value) {
    if (value < 0) {
      throw new IllegalArgumentException(flag + ": must not be negative, got " + value);
    }
    return value;
  }

  private static DrainStrategy drainStrategy(String s) {
    return switch (s) {
      case "gradual" -> DrainStrategy.GRADUAL;
      case "immediate" -> DrainStrategy.IMMEDIATE;
      default -> throw new IllegalArgumentException(
          "--drain-strategy: unknown drain-strategy '" + s + "' (gradual or immediate)");
    };
  }

  private static IpVersion ipVersion(String s) {
    return switch (s) {
      case "v4" -> IpVersion.V4;
      case "v6" -> IpVersion.V6;
      default -> throw new IllegalArgumentException(
          "--local-address-ip-version: unknown IP address version '" + s + "' (v4 or v6)");
    };
  }

  private static Mode mode(String s) {
    return switch (s) {
      case "serve" -> Mode.SERVE;
      case "validate" -> Mode.VALIDATE;
      case "init_only" -> throw new IllegalArgumentException("--mode: 'init_only' is not supported");
      default -> throw new IllegalArgumentException("--mode: unknown mode '" + s + "' (serve or validate)");
    };
  }

  /** Supplies {@code --version}. */
  static final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {versionLine()};
    }
  }
}
