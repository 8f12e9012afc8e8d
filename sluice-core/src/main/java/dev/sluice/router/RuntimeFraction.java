package dev.sluice.router;

import dev.sluice.api.config.ConfigException;
import io.envoyproxy.envoy.type.v3.FractionalPercent;

/**
 * A {@code FractionalPercent} evaluated against a caller-supplied random value, as Envoy's
 * {@code featureEnabled(key, default_value, random)}: enabled when
 * {@code random % denominator < numerator}. Runtime-key overrides are not looked up (Sluice has no
 * runtime layer), so the default value always applies.
 */
public record RuntimeFraction(long numerator, long denominator) {
  public static final RuntimeFraction ALWAYS = new RuntimeFraction(1, 1);

  public static RuntimeFraction of(FractionalPercent p, String fieldPath) {
    long denominator =
        switch (p.getDenominator()) {
          case HUNDRED -> 100;
          case TEN_THOUSAND -> 10_000;
          case MILLION -> 1_000_000;
          case UNRECOGNIZED -> throw new ConfigException(fieldPath + ".denominator", "unknown denominator");
        };
    return new RuntimeFraction(Integer.toUnsignedLong(p.getNumerator()), denominator);
  }

  /** True for this random value (treated as unsigned, as Envoy's uint64). */
  public boolean enabled(long random) {
    return Long.remainderUnsigned(random, denominator) < numerator;
  }
}
