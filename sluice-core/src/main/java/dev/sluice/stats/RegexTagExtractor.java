package dev.sluice.stats;

import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.jspecify.annotations.Nullable;

/**
 * A tag extractor driven by a regular expression searched anywhere in the name. The first capture
 * group is the text removed from the name, the second (when present) the tag value; without a
 * second group the first is the value. Envoy compiles user-supplied {@code stats_tags} regexes with
 * std::regex (ECMAScript: lookahead and POSIX bracket classes, used by Istio's bootstrap), so they
 * are compiled here with java.util.regex after translating the POSIX classes; this runs only when a
 * stat is created, never per request.
 */
final class RegexTagExtractor implements TagExtractor {
  private static final Map<String, String> POSIX_CLASSES =
      Map.ofEntries(
          Map.entry("[:digit:]", "0-9"),
          Map.entry("[:alpha:]", "a-zA-Z"),
          Map.entry("[:alnum:]", "a-zA-Z0-9"),
          Map.entry("[:upper:]", "A-Z"),
          Map.entry("[:lower:]", "a-z"),
          Map.entry("[:xdigit:]", "0-9A-Fa-f"),
          Map.entry("[:space:]", "\\s"),
          Map.entry("[:w:]", "\\w"),
          Map.entry("[:punct:]", "\\p{Punct}"));

  private final String name;
  private final Pattern pattern;
  private final String substr;
  private final @Nullable String negativeMatch;
  private final boolean builtIn;
  private final String prefixToken;

  private RegexTagExtractor(
      String name, String regex, String substr, @Nullable String negativeMatch, boolean builtIn) {
    this.name = name;
    this.pattern = Pattern.compile(translatePosixClasses(regex));
    this.substr = substr;
    this.negativeMatch = negativeMatch;
    this.builtIn = builtIn;
    this.prefixToken = regexPrefixToken(regex);
  }

  /**
   * One of Envoy's default extractors (RE2 semantics there): the removed group must be non-empty
   * and a value equal to {@code negativeMatch} is not a match.
   */
  static RegexTagExtractor builtIn(
      String name, String regex, String substr, @Nullable String negativeMatch) {
    return new RegexTagExtractor(name, regex, substr, negativeMatch, true);
  }

  /** A {@code stats_tags[].regex}; throws {@link PatternSyntaxException} for a bad regex. */
  static RegexTagExtractor custom(String name, String regex) {
    return new RegexTagExtractor(name, regex, "", null, false);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String prefixToken() {
    return prefixToken;
  }

  @Override
  public boolean extract(StatNameTokens statName, List<Tag> tags, BitSet remove) {
    String text = statName.name();
    if (!substr.isEmpty() && !text.contains(substr)) {
      return false;
    }
    Matcher m = pattern.matcher(text);
    if (!m.find() || m.groupCount() < 1 || m.group(1) == null) {
      return false;
    }
    String removed = m.group(1);
    if (builtIn && removed.isEmpty()) {
      return false;
    }
    String value = removed;
    if (m.groupCount() >= 2 && m.group(2) != null && !(builtIn && m.group(2).isEmpty())) {
      value = m.group(2);
    }
    if (negativeMatch != null && negativeMatch.equals(value)) {
      return false;
    }
    tags.add(new Tag(name, value));
    remove.set(m.start(1), m.end(1));
    return true;
  }

  static String translatePosixClasses(String regex) {
    String out = regex;
    for (Map.Entry<String, String> e : POSIX_CLASSES.entrySet()) {
      out = out.replace(e.getKey(), e.getValue());
    }
    return out;
  }

  /**
   * Envoy's prefix optimisation: a regex {@code ^word\.} or {@code ^word(?=\.)} (or {@code ^word$})
   * only applies to names whose first token is {@code word}.
   */
  static String regexPrefixToken(String regex) {
    if (!regex.startsWith("^")) {
      return "";
    }
    for (int i = 1; i < regex.length(); i++) {
      char c = regex.charAt(i);
      if (Character.isLetterOrDigit(c) && c < 128 || c == '_') {
        continue;
      }
      if (i > 1) {
        boolean last = i == regex.length() - 1;
        String rest = regex.substring(i);
        if ((!last && (rest.startsWith("\\.") || rest.startsWith("(?=\\.)")))
            || (last && c == '$')) {
          return regex.substring(1, i);
        }
      }
      return "";
    }
    return "";
  }
}
