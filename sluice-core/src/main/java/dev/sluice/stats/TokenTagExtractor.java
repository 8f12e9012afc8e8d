package dev.sluice.stats;

import java.util.BitSet;
import java.util.List;

/**
 * Envoy's token-pattern extractor: a dotted pattern where {@code $} is the tag value, {@code *}
 * any one token and {@code **} any number of tokens (e.g. {@code cluster.$.**}). Cheaper and
 * more predictable than a regex for the common "prefix.VALUE.rest" shapes.
 */
final class TokenTagExtractor implements TagExtractor {
  private final String name;
  private final List<String> pattern;
  private final int valueIndex;
  private final String prefixToken;

  TokenTagExtractor(String name, String pattern) {
    this.name = name;
    this.pattern = List.of(pattern.split("\\.", -1));
    this.valueIndex = this.pattern.indexOf("$");
    if (valueIndex < 0) {
      throw new IllegalArgumentException("token pattern without $: " + pattern);
    }
    String first = this.pattern.getFirst();
    this.prefixToken = first.equals("$") || first.equals("*") || first.equals("**") ? "" : first;
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
    List<String> input = statName.tokens();
    int[] match = new int[2]; // [0]: char start of the value token, [1]: its token index
    match[1] = -1;
    if (!search(input, 0, 0, 0, match) || match[1] < 0) {
      return false;
    }
    int start = match[0];
    int index = match[1];
    String value = input.get(index);
    int end = start + value.length();
    // Remove the dot after the value ("ab." or "cd."), or, for the last token, the one before it.
    if (index < input.size() - 1) {
      end++;
    } else if (start > 0) {
      start--;
    }
    tags.add(new Tag(name, value));
    remove.set(start, end);
    return true;
  }

  private boolean search(List<String> input, int in, int pat, int charIndex, int[] match) {
    for (; in < input.size() && pat < pattern.size(); in++, pat++) {
      if (pat == valueIndex) {
        match[0] = charIndex;
        match[1] = in;
        charIndex += input.get(in).length() + 1;
        continue;
      }
      String expected = pattern.get(pat);
      if (expected.equals("**")) {
        if (pat == pattern.size() - 1) {
          return true; // a trailing ** swallows the rest
        }
        // ** in the middle: the rest of the pattern must match at some later position.
        for (; in < input.size(); in++) {
          if (search(input, in, pat + 1, charIndex, match)) {
            return true;
          }
          charIndex += input.get(in).length() + 1;
        }
        return false;
      }
      String token = input.get(in);
      if (!expected.equals("*") && !expected.equals(token)) {
        return false;
      }
      charIndex += token.length() + 1;
    }
    return pat == pattern.size() && in == input.size();
  }
}
