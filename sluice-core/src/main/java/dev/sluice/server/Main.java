package dev.sluice.server;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import dev.sluice.api.config.ConfigException;
import dev.sluice.config.BootstrapLoader;
import dev.sluice.config.ProtoTypes;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import java.io.PrintStream;
import java.util.List;
import org.slf4j.Logger;

/** The {@code sluice} process: Envoy's command line, then validate or serve. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    int code;
    try {
      code = run(args, System.out, System.err);
    } catch (Throwable t) {
      // Never leave a half-started JVM behind (its non-daemon threads would keep it alive).
      System.err.println("sluice: fatal error during start-up: " + t);
      code = 1;
    }
    System.exit(code);
  }

  /**
   * Runs the command line and returns the exit code: 0 after {@code --help}/{@code --version} or a
   * valid config in validate mode, 1 for a bad command line or config (one line on {@code err}),
   * otherwise the server's exit code.
   */
  static int run(String[] args, PrintStream out, PrintStream err) {
    ProtoTypes.preload(); // ~0.6 s on a cold JVM: overlap it with parsing and logging set-up
    Options options;
    switch (OptionsParser.parse(args)) {
      case OptionsParser.Printed p -> {
        out.print(p.text());
        return 0;
      }
      case OptionsParser.Invalid i -> {
        err.println(i.message());
        return 1;
      }
      case OptionsParser.Parsed p -> options = p.options();
    }
    try {
      Logging.configure(options);
    } catch (IllegalArgumentException e) {
      err.println(e.getMessage());
      return 1;
    }
    Logger log = Logging.logger("main");
    if (!options.ignoredFlags().isEmpty()) {
      log.info("accepted without effect: {}", String.join(" ", options.ignoredFlags()));
    }
    Server server;
    try {
      Bootstrap bootstrap = new BootstrapLoader(ProtoTypes.get()).load(options.configPath(),
          options.configYaml(), options.allowUnknownStaticFields(),
          new BootstrapLoader.NodeOverrides(options.serviceNode(), options.serviceCluster(),
              options.serviceZone()));
      applyApplicationLogConfig(bootstrap, options);
      server = new Server(options, bootstrap);
      if (options.mode() == Options.Mode.VALIDATE) {
        List<String> errors = server.validate();
        if (errors.isEmpty()) {
          out.println("OK");
          return 0;
        }
        errors.forEach(err::println);
        return 1;
      }
      return server.run();
    } catch (ConfigException e) {
      err.println(e.getMessage());
      return 1;
    }
  }

  /**
   * The bootstrap's {@code application_log_config.log_format} replaces the default line format; as
   * Envoy, it may not be combined with {@code --log-format}.
   */
  static void applyApplicationLogConfig(Bootstrap bootstrap, Options options) {
    if (!bootstrap.hasApplicationLogConfig() || !bootstrap.getApplicationLogConfig().hasLogFormat()) {
      return;
    }
    if (options.logFormat() != null) {
      throw new ConfigException("application_log_config.log_format",
          "Only one of ApplicationLogConfig.log_format or CLI option --log-format can be specified.");
    }
    var format = bootstrap.getApplicationLogConfig().getLogFormat();
    switch (format.getLogFormatCase()) {
      case TEXT_FORMAT -> Logging.setFormat(format.getTextFormat());
      case JSON_FORMAT -> Logging.setFormat(jsonPattern(format.getJsonFormat()));
      case LOGFORMAT_NOT_SET -> { }
    }
  }

  /** Envoy's JSON log format: the struct as one JSON line whose string values are spdlog patterns. */
  static String jsonPattern(Struct format) {
    String json;
    try {
      json = JsonFormat.printer().omittingInsignificantWhitespace().print(format);
    } catch (InvalidProtocolBufferException e) {
      throw new ConfigException("application_log_config.log_format.json_format", e.getMessage(), e);
    }
    for (String flag : List.of("%v", "%_")) {
      if (json.contains(flag)) {
        // As Envoy: these may break the JSON structure; %j is the escaped message.
        throw new ConfigException("application_log_config.log_format.json_format",
            "Usage of " + flag + " is unavailable for JSON log formats");
      }
    }
    return json;
  }
}
