package dev.sluice.bookinfo;

import java.util.OptionalLong;

/** The numeric product id at the end of a path, as the originals read it. */
final class ProductIds {
  private ProductIds() {}

  /** The decimal integer {@code segment} holds, or empty when it holds anything else. */
  static OptionalLong parse(String segment) {
    if (segment.isEmpty() || segment.length() > 18) {
      return OptionalLong.empty();
    }
    int start = segment.charAt(0) == '-' || segment.charAt(0) == '+' ? 1 : 0;
    if (start == segment.length()) {
      return OptionalLong.empty();
    }
    for (int i = start; i < segment.length(); i++) {
      if (segment.charAt(i) < '0' || segment.charAt(i) > '9') {
        return OptionalLong.empty();
      }
    }
    return OptionalLong.of(Long.parseLong(segment));
  }
}
