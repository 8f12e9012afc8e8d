package dev.sluice.router;

import dev.sluice.accesslog.SubstitutionFormatter;
import dev.sluice.api.config.ConfigException;
import dev.sluice.api.stream.StreamInfo;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption.HeaderAppendAction;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * One level's {@code *_headers_to_add} / {@code *_headers_to_remove} (Envoy's HeaderParser). Applying
 * removes first, then evaluates every value against the headers as they are, then overwrites, then
 * appends: so {@code ADD_IF_ABSENT} and {@code OVERWRITE_IF_EXISTS} look at the headers before this
 * level's additions. Values are Envoy substitution format strings, rendered per stream; an empty
 * result is skipped unless {@code keep_empty_value}.
 */
final class HeaderMutations {
  static final HeaderMutations EMPTY = new HeaderMutations(new AsciiString[0], new Addition[0]);

  private final AsciiString[] removals;
  private final Addition[] additions;

  private record Addition(
      AsciiString name, SubstitutionFormatter value, HeaderAppendAction action, boolean keepEmpty) {}

  private HeaderMutations(AsciiString[] removals, Addition[] additions) {
    this.removals = removals;
    this.additions = additions;
  }

  /**
   * @param addField the field name of the additions, e.g. {@code request_headers_to_add}
   * @param removeField the field name of the removals
   */
  static HeaderMutations compile(
      List<HeaderValueOption> toAdd,
      List<String> toRemove,
      String parentPath,
      String addField,
      String removeField) {
    if (toAdd.isEmpty() && toRemove.isEmpty()) {
      return EMPTY;
    }
    AsciiString[] removals = new AsciiString[toRemove.size()];
    for (int i = 0; i < removals.length; i++) {
      String name = toRemove.get(i);
      String path = join(parentPath, removeField) + "[" + i + "]";
      if (name.isEmpty()) {
        throw new ConfigException(path, "header name must not be empty");
      }
      if (!modifiable(name)) {
        throw new ConfigException(path, ":-prefixed or host headers may not be removed");
      }
      removals[i] = AsciiString.of(name.toLowerCase(Locale.ROOT));
    }
    Addition[] additions = new Addition[toAdd.size()];
    for (int i = 0; i < additions.length; i++) {
      HeaderValueOption o = toAdd.get(i);
      String path = join(parentPath, addField) + "[" + i + "]";
      String key = o.getHeader().getKey();
      if (key.isEmpty()) {
        throw new ConfigException(path + ".header.key", "value length must be at least 1 characters");
      }
      if (!modifiable(key)) {
        throw new ConfigException(path + ".header.key", ":-prefixed or host headers may not be modified");
      }
      if (o.hasAppend() && o.getAppendActionValue() != 0) {
        throw new ConfigException(path, "Both append and append_action are set and it's not allowed");
      }
      HeaderAppendAction action;
      if (o.hasAppend()) {
        // The deprecated bool: true appends, false overwrites.
        action =
            o.getAppend().getValue()
                ? HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD
                : HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD;
      } else if (o.getAppendAction() == HeaderAppendAction.UNRECOGNIZED) {
        throw new ConfigException(path + ".append_action", "unknown append action " + o.getAppendActionValue());
      } else {
        action = o.getAppendAction();
      }
      String raw =
          o.getHeader().getRawValue().isEmpty()
              ? o.getHeader().getValue()
              : o.getHeader().getRawValue().toString(StandardCharsets.UTF_8);
      SubstitutionFormatter formatter;
      try {
        // As Envoy's HeaderParser: omit_empty_values, so an absent value renders as "" (and the
        // header is then skipped unless keep_empty_value), never as the access log's "-".
        formatter = SubstitutionFormatter.compile(raw, true);
      } catch (ConfigException e) {
        throw e.under(path + ".header.value");
      }
      additions[i] =
          new Addition(AsciiString.of(key.toLowerCase(Locale.ROOT)), formatter, action, o.getKeepEmptyValue());
    }
    return new HeaderMutations(removals, additions);
  }

  private static String join(String parent, String field) {
    return parent.isEmpty() ? field : parent + "." + field;
  }

  private static boolean modifiable(String name) {
    return name.charAt(0) != ':' && !name.equalsIgnoreCase("host");
  }

  boolean isEmpty() {
    return this == EMPTY;
  }

  void apply(Http2Headers headers, StreamInfo info) {
    if (this == EMPTY) {
      return;
    }
    for (AsciiString name : removals) {
      headers.remove(name);
    }
    if (additions.length == 0) {
      return;
    }
    // Evaluate all values before changing anything (formatters may read request headers).
    String[] values = new String[additions.length];
    boolean[] overwrite = new boolean[additions.length];
    for (int i = 0; i < additions.length; i++) {
      Addition a = additions[i];
      String v = a.value.format(info);
      if (v.isEmpty() && !a.keepEmpty) {
        continue;
      }
      switch (a.action) {
        case APPEND_IF_EXISTS_OR_ADD -> values[i] = v;
        case ADD_IF_ABSENT -> {
          if (!headers.contains(a.name)) {
            values[i] = v;
          }
        }
        case OVERWRITE_IF_EXISTS -> {
          if (headers.contains(a.name)) {
            values[i] = v;
            overwrite[i] = true;
          }
        }
        case OVERWRITE_IF_EXISTS_OR_ADD, UNRECOGNIZED -> {
          values[i] = v;
          overwrite[i] = true;
        }
      }
    }
    for (int i = 0; i < additions.length; i++) {
      if (overwrite[i]) {
        headers.set(additions[i].name, values[i]);
      }
    }
    for (int i = 0; i < additions.length; i++) {
      if (values[i] != null && !overwrite[i]) {
        headers.add(additions[i].name, values[i]);
      }
    }
  }
}
