package dev.sluice.stats;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.config.metrics.v3.StatsConfig;
import io.envoyproxy.envoy.config.metrics.v3.TagSpecifier;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.PatternSyntaxException;

/**
 * Turns a full stat name into its tag-extracted name and tags, as Envoy's {@code TagProducerImpl}:
 * default extractors unless {@code use_all_default_tags} is false, then each {@code stats_tags}
 * entry (a regex, a fixed value, or only a name that selects the default extractors of that name).
 * Extractors that apply to every name run first, then those indexed by the name's first token.
 * Runs once per stat, when the stat is created.
 */
public final class TagProducer {
  private final List<TagExtractor> withoutPrefix = new ArrayList<>();
  private final Map<String, List<TagExtractor>> byPrefix = new HashMap<>();
  private final Set<String> duplicatedNames = new HashSet<>();
  private final Set<String> seenNames = new HashSet<>();

  private TagProducer() {}

  /** Envoy's behaviour with no {@code stats_config}: all default tags. */
  public static TagProducer defaults() {
    return fromConfig(StatsConfig.getDefaultInstance());
  }

  /** Field paths in errors are relative to {@code stats_config}. */
  public static TagProducer fromConfig(StatsConfig config) {
    TagProducer producer = new TagProducer();
    if (!config.hasUseAllDefaultTags() || config.getUseAllDefaultTags().getValue()) {
      DefaultTagExtractors.all().forEach(producer::add);
    }
    for (int i = 0; i < config.getStatsTagsCount(); i++) {
      TagSpecifier spec = config.getStatsTags(i);
      String path = "stats_tags[" + i + "]";
      String name = spec.getTagName();
      if (name.isEmpty()) {
        throw new ConfigException(path + ".tag_name", "tag_name cannot be empty");
      }
      switch (spec.getTagValueCase()) {
        case FIXED_VALUE -> producer.add(new FixedTagExtractor(name, spec.getFixedValue()));
        case REGEX, TAGVALUE_NOT_SET -> {
          if (spec.getRegex().isEmpty()) {
            List<TagExtractor> defaults =
                DefaultTagExtractors.all().stream().filter(e -> e.name().equals(name)).toList();
            if (defaults.isEmpty()) {
              throw new ConfigException(path + ".regex",
                  "No regex specified for tag specifier and no default regex for name: '"
                      + name + "'");
            }
            defaults.forEach(producer::add);
          } else {
            try {
              producer.add(RegexTagExtractor.custom(name, spec.getRegex()));
            } catch (PatternSyntaxException e) {
              throw new ConfigException(
                  path + ".regex", "Invalid regex '" + spec.getRegex() + "': " + e.getDescription());
            }
          }
        }
      }
    }
    return producer;
  }

  private void add(TagExtractor extractor) {
    if (!seenNames.add(extractor.name())) {
      duplicatedNames.add(extractor.name());
    }
    if (extractor.prefixToken().isEmpty()) {
      withoutPrefix.add(extractor);
    } else {
      byPrefix.computeIfAbsent(extractor.prefixToken(), k -> new ArrayList<>()).add(extractor);
    }
  }

  /** The tag-extracted name and tags of {@code name}. */
  public TaggedName produce(String name) {
    StatNameTokens tokens = new StatNameTokens(name);
    List<Tag> tags = new ArrayList<>();
    BitSet remove = new BitSet(name.length());
    Set<String> found = new HashSet<>();
    for (TagExtractor e : withoutPrefix) {
      apply(e, tokens, tags, remove, found);
    }
    int dot = name.indexOf('.');
    if (dot >= 0) {
      for (TagExtractor e : byPrefix.getOrDefault(name.substring(0, dot), List.of())) {
        apply(e, tokens, tags, remove, found);
      }
    }
    if (remove.isEmpty()) {
      return new TaggedName(name, tags);
    }
    StringBuilder extracted = new StringBuilder(name.length());
    for (int i = 0; i < name.length(); i++) {
      if (!remove.get(i)) {
        extracted.append(name.charAt(i));
      }
    }
    return new TaggedName(extracted.toString(), tags);
  }

  // When several extractors share a tag name, only the first that matches contributes (Envoy).
  private void apply(
      TagExtractor e, StatNameTokens tokens, List<Tag> tags, BitSet remove, Set<String> found) {
    boolean shared = duplicatedNames.contains(e.name());
    if (shared && found.contains(e.name())) {
      return;
    }
    if (e.extract(tokens, tags, remove) && shared) {
      found.add(e.name());
    }
  }
}
