package dev.sluice.accesslog;

import dev.sluice.api.stream.StreamInfo;

/** A compiled text format string: Envoy's {@code text_format}. */
final class TextFormatter implements SubstitutionFormatter {
  private final FormatTemplate template;
  private final String absent;

  TextFormatter(FormatTemplate template, boolean omitEmptyValues) {
    this.template = template;
    this.absent = omitEmptyValues ? "" : "-";
  }

  @Override
  public String format(StreamInfo info) {
    StringBuilder out = new StringBuilder(256);
    template.append(info, out, absent);
    return out.toString();
  }
}
