package dev.sluice.stats;

import java.util.BitSet;
import java.util.List;

/**
 * Finds one tag in a full stat name (Envoy's {@code TagExtractor}). Every extractor looks at the
 * original name; the characters each one claims are collected and removed together afterwards.
 */
interface TagExtractor {
  /** The tag name, e.g. {@code envoy.cluster_name}. */
  String name();

  /**
   * The first dot-separated token a name must start with for this extractor to apply, or the
   * empty string when it applies to every name (Envoy indexes extractors by it).
   */
  String prefixToken();

  /**
   * Adds the tag found in {@code name} to {@code tags} and marks the characters to drop from the
   * tag-extracted name in {@code remove}. Returns whether a tag was found.
   */
  boolean extract(StatNameTokens name, List<Tag> tags, BitSet remove);
}
