package dev.sluice.stats;

import java.util.List;

/**
 * A stat name split as Envoy splits it: the tag-extracted name (tag values and the dots around
 * them removed) and the tags in extraction order.
 */
public record TaggedName(String tagExtractedName, List<Tag> tags) {
  public TaggedName {
    tags = List.copyOf(tags);
  }

  /** A name without tags. */
  public static TaggedName untagged(String name) {
    return new TaggedName(name, List.of());
  }
}
