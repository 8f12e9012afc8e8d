package dev.sluice.stats;

import java.util.List;
import org.jspecify.annotations.Nullable;

/** A stat name with its dot-separated tokens, split on first use and shared by the extractors. */
final class StatNameTokens {
  private final String name;
  private @Nullable List<String> tokens;

  StatNameTokens(String name) {
    this.name = name;
  }

  String name() {
    return name;
  }

  List<String> tokens() {
    List<String> t = tokens;
    if (t == null) {
      // split with limit -1 keeps empty tokens, as absl::StrSplit does.
      t = List.of(name.split("\\.", -1));
      tokens = t;
    }
    return t;
  }
}
