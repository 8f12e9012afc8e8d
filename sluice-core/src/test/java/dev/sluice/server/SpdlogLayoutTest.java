package dev.sluice.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class SpdlogLayoutTest {
  private static final Instant AT = Instant.parse("2024-03-05T07:08:09.123456789Z");

  private static String format(String pattern, String logger, Level level, String message) {
    SpdlogLayout layout = new SpdlogLayout(ZoneOffset.UTC);
    layout.setPattern(pattern);
    LoggerContext context = new LoggerContext();
    LoggingEvent event = new LoggingEvent("fqcn", context.getLogger(logger), level, message, null, null);
    event.setInstant(AT);
    event.setThreadName("worker-1");
    return layout.doLayout(event);
  }

  @Test
  void envoyDefaultFormat() {
    assertThat(format(SpdlogLayout.DEFAULT_FORMAT, "sluice.upstream", Level.WARN, "hello"))
        .isEqualTo("[2024-03-05 07:08:09.123][worker-1][warning][upstream] hello\n");
  }

  @Test
  void istioBootstrapFormat() {
    // application_log_config.log_format.text_format of Istio's bootstrap
    assertThat(format("%Y-%m-%dT%T.%fZ\t%l\tenvoy %n %g:%#\t%v\tthread=%t", "sluice.misc", Level.ERROR, "x"))
        .isEqualTo("2024-03-05T07:08:09.123456Z\terror\tenvoy misc :\tx\tthread=worker-1\n");
  }

  @Test
  void dateTimeFlags() {
    assertThat(format("%a %A %b %B %C %D %H %I %M %S %e %f %F %p %r %R %z %E", "x", Level.INFO, ""))
        .isEqualTo("Tue Tuesday Mar March 24 03/05/24 07 07 08 09 123 123456 123456789 AM "
            + "07:08:09 AM 07:08 +00:00 1709622489\n");
    assertThat(format("%c", "x", Level.INFO, "")).isEqualTo("Tue Mar 05 07:08:09 2024\n");
  }

  @Test
  void levelsNamesEscapesAndPadding() {
    assertThat(format("%L|%l|%n", "dev.sluice.router.RouterFilter", Level.DEBUG, ""))
        .isEqualTo("D|debug|RouterFilter\n");
    assertThat(format("%_", "x", Level.INFO, "a\nb\tc")).isEqualTo("a\\nb\\tc\n");
    assertThat(format("{\"m\":\"%j\"}", "x", Level.INFO, "say \"hi\"\n")).isEqualTo("{\"m\":\"say \\\"hi\\\"\\n\"}\n");
    assertThat(format("[%8l][%-8l][%=7l][%3!l]", "x", Level.INFO, ""))
        .isEqualTo("[    info][info    ][ info  ][inf]\n");
    assertThat(format("100%% %^%v%$ %Q", "x", Level.INFO, "m")).isEqualTo("100% m %Q\n");
    assertThat(format("%+", "sluice.main", Level.INFO, "m"))
        .isEqualTo("[2024-03-05 07:08:09.123] [main] [info] m\n");
  }
}
