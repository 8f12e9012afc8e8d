package dev.sluice.stats;

import java.util.BitSet;
import java.util.List;

/** A {@code stats_tags[].fixed_value}: the same tag on every stat, nothing removed from the name. */
record FixedTagExtractor(String name, String value) implements TagExtractor {
  @Override
  public String prefixToken() {
    return "";
  }

  @Override
  public boolean extract(StatNameTokens statName, List<Tag> tags, BitSet remove) {
    tags.add(new Tag(name, value));
    return true;
  }
}
