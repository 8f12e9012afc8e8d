package dev.sluice.accesslog;

import dev.sluice.api.stream.StreamInfo;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/** An operator whose value is a string already held by {@link StreamInfo}; null means absent. */
final class TextOperator extends CommandOperator {
  private final Function<StreamInfo, @Nullable String> value;

  TextOperator(Function<StreamInfo, @Nullable String> value) {
    this.value = value;
  }

  @Override
  boolean append(StreamInfo info, StringBuilder out) {
    String v = value.apply(info);
    if (v == null) {
      return false;
    }
    out.append(v);
    return true;
  }
}
