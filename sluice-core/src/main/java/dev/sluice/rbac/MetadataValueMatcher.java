package dev.sluice.rbac;

import com.google.protobuf.Value;
import dev.sluice.api.config.ConfigException;
import dev.sluice.router.StringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.DoubleMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ListMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * A compiled {@code envoy.type.matcher.v3.ValueMatcher} over a metadata value; an absent value
 * (null) matches only {@code present_match: false}.
 */
final class MetadataValueMatcher {
  private MetadataValueMatcher() {}

  static Predicate<@Nullable Value> compile(ValueMatcher m, String path) {
    return switch (m.getMatchPatternCase()) {
      case NULL_MATCH -> v -> v != null && v.hasNullValue();
      case DOUBLE_MATCH -> doubleMatch(m.getDoubleMatch(), path + ".double_match");
      case STRING_MATCH -> {
        StringMatcher s = StringMatcher.compile(m.getStringMatch(), path + ".string_match");
        yield v -> v != null && v.hasStringValue() && s.matches(v.getStringValue());
      }
      case BOOL_MATCH -> {
        boolean b = m.getBoolMatch();
        yield v -> v != null && v.hasBoolValue() && v.getBoolValue() == b;
      }
      case PRESENT_MATCH -> {
        boolean present = m.getPresentMatch();
        yield v -> (v != null && v.getKindCase() != Value.KindCase.KIND_NOT_SET) == present;
      }
      case LIST_MATCH -> listMatch(m.getListMatch(), path + ".list_match");
      case OR_MATCH -> {
        List<Predicate<@Nullable Value>> any = new ArrayList<>();
        for (int i = 0; i < m.getOrMatch().getValueMatchersCount(); i++) {
          any.add(compile(m.getOrMatch().getValueMatchers(i), path + ".or_match.value_matchers[" + i + "]"));
        }
        List<Predicate<@Nullable Value>> list = List.copyOf(any);
        yield v -> list.stream().anyMatch(p -> p.test(v));
      }
      case MATCHPATTERN_NOT_SET -> throw new ConfigException(path, "match_pattern is required");
    };
  }

  private static Predicate<@Nullable Value> doubleMatch(DoubleMatcher d, String path) {
    return switch (d.getMatchPatternCase()) {
      case RANGE -> {
        double start = d.getRange().getStart();
        double end = d.getRange().getEnd();
        yield v -> v != null && v.hasNumberValue() && v.getNumberValue() >= start && v.getNumberValue() < end;
      }
      case EXACT -> {
        double exact = d.getExact();
        yield v -> v != null && v.hasNumberValue() && v.getNumberValue() == exact;
      }
      case MATCHPATTERN_NOT_SET -> throw new ConfigException(path, "match_pattern is required");
    };
  }

  /** {@code one_of}: some element of a list value matches. */
  private static Predicate<@Nullable Value> listMatch(ListMatcher l, String path) {
    if (!l.hasOneOf()) {
      throw new ConfigException(path + ".one_of", "one_of is required");
    }
    Predicate<@Nullable Value> element = compile(l.getOneOf(), path + ".one_of");
    return v -> {
      if (v == null || !v.hasListValue()) {
        return false;
      }
      for (Value e : v.getListValue().getValuesList()) {
        if (element.test(e)) {
          return true;
        }
      }
      return false;
    };
  }
}
