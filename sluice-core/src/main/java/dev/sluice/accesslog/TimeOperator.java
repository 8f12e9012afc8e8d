package dev.sluice.accesslog;

import dev.sluice.api.stream.StreamInfo;
import java.time.Instant;
import java.time.zone.ZoneRules;

/**
 * {@code %START_TIME(fmt)%} and {@code %EMIT_TIME(fmt)%}, in UTC or (the {@code _LOCAL} forms)
 * the system time zone. In typed JSON it is always a string, as in Envoy.
 */
final class TimeOperator extends CommandOperator {
  private final TimeFormat format;
  private final boolean local;
  private final boolean emit;

  TimeOperator(TimeFormat format, boolean local) {
    this(format, local, false);
  }

  private TimeOperator(TimeFormat format, boolean local, boolean emit) {
    this.format = format;
    this.local = local;
    this.emit = emit;
  }

  static TimeOperator emitTime(TimeFormat format, boolean local) {
    return new TimeOperator(format, local, true);
  }

  @Override
  boolean append(StreamInfo info, StringBuilder out) {
    long millis = emit ? System.currentTimeMillis() : info.startTimeEpochMillis;
    if (local) {
      ZoneRules rules = CommandOperators.localZone();
      int offset = rules.getOffset(Instant.ofEpochMilli(millis)).getTotalSeconds();
      format.append(millis, offset, rules.isFixedOffset() && offset == 0 ? "UTC" : "", out);
    } else {
      format.append(millis, 0, "UTC", out);
    }
    return true;
  }
}
