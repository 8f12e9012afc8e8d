package dev.sluice.xds;

import io.envoyproxy.envoy.config.core.v3.RateLimitSettings;
import java.time.Clock;

/**
 * Envoy's limit on discovery requests ({@code api_config_source.rate_limit_settings}): a bucket of
 * {@code max_tokens} (default 100) refilled at {@code fill_rate} per second (default 10, at least
 * once a year); each request takes a token. Control thread only.
 */
final class TokenBucket {
  private static final double MIN_FILL_RATE = 1.0 / (365 * 24 * 3600);

  private final double maxTokens;
  private final double perMilli;
  private final Clock clock;
  private double tokens;
  private long lastMillis;

  TokenBucket(RateLimitSettings settings, Clock clock) {
    this.maxTokens = settings.hasMaxTokens() ? settings.getMaxTokens().getValue() : 100;
    double rate = settings.hasFillRate() ? settings.getFillRate().getValue() : 10;
    this.perMilli = Math.max(rate, MIN_FILL_RATE) / 1000.0;
    this.clock = clock;
    this.tokens = maxTokens;
    this.lastMillis = clock.millis();
  }

  /** Takes a token if there is one. */
  boolean tryTake() {
    refill();
    if (tokens < 1) {
      return false;
    }
    tokens -= 1;
    return true;
  }

  /** How long until a token is there (0: now). */
  long millisUntilToken() {
    refill();
    return tokens >= 1 ? 0 : (long) Math.ceil((1 - tokens) / perMilli);
  }

  private void refill() {
    long now = clock.millis();
    tokens = Math.min(maxTokens, tokens + (now - lastMillis) * perMilli);
    lastMillis = now;
  }
}
