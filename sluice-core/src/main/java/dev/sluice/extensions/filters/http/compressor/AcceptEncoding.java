package dev.sluice.extensions.filters.http.compressor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Envoy's choice of a content coding from {@code accept-encoding} (RFC 9110 12.5.3) among the
 * compressors of one filter chain: the highest q-value wins, the earliest in the header on a tie
 * unless a {@code choose_first} compressor ties; {@code identity} and {@code *} count; {@code q=0}
 * forbids a coding even when {@code *} would allow it; {@code *} picks the first compressor.
 */
final class AcceptEncoding {
  static final String IDENTITY = "identity";
  private static final String WILDCARD = "*";

  private AcceptEncoding() {}

  enum Kind { VALID, IDENTITY, WILDCARD, NOT_VALID }

  /** The chosen coding ({@code identity} for none) and how the header led there (for the stats). */
  record Decision(String encoding, Kind kind) {}

  private record Candidate(String coding, float q) {}

  /**
   * @param header the request's {@code accept-encoding} value(s), comma-joined
   * @param available the chain's codings in preference order (the {@code choose_first} one first)
   * @param preferred the {@code choose_first} coding, or null
   */
  static Decision choose(String header, List<String> available, @org.jspecify.annotations.Nullable String preferred) {
    List<String> allowed = new ArrayList<>(available);
    List<Candidate> candidates = new ArrayList<>();
    for (String token : header.split(",")) {
      if (token.isBlank()) {
        continue;
      }
      int semi = token.indexOf(';');
      String coding = (semi < 0 ? token : token.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
      float q = 1;
      if (semi >= 0) {
        String params = token.substring(semi + 1);
        int eq = params.indexOf('=');
        if (eq >= 0 && params.substring(0, eq).trim().equalsIgnoreCase("q")) {
          try {
            q = Float.parseFloat(params.substring(eq + 1).trim());
          } catch (NumberFormatException e) {
            continue; // an unreadable weight drops the token, as Envoy does
          }
          if (!(q >= 0 && q <= 1)) {
            continue;
          }
        }
      }
      candidates.add(new Candidate(coding, q));
      if (q == 0) {
        allowed.remove(coding);
      }
    }
    if (candidates.isEmpty() || allowed.isEmpty()) {
      return new Decision(IDENTITY, Kind.NOT_VALID);
    }
    Candidate choice = new Candidate(IDENTITY, 0);
    for (Candidate c : candidates) {
      boolean usable = allowed.contains(c.coding()) || c.coding().equals(IDENTITY) || c.coding().equals(WILDCARD);
      if (!usable) {
        continue;
      }
      boolean better = c.q() > choice.q()
          || (c.q() == choice.q() && c.q() > 0 && c.coding().equals(preferred) && !choice.coding().equals(preferred));
      if (better) {
        choice = c;
      }
    }
    if (choice.q() == 0) {
      return new Decision(IDENTITY, Kind.NOT_VALID);
    }
    if (choice.coding().equals(IDENTITY)) {
      return new Decision(IDENTITY, Kind.IDENTITY);
    }
    if (choice.coding().equals(WILDCARD)) {
      return new Decision(allowed.getFirst(), Kind.WILDCARD);
    }
    return new Decision(choice.coding(), Kind.VALID);
  }
}
