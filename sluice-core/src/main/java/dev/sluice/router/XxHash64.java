package dev.sluice.router;

/**
 * XXH64 (Yann Collet's xxHash, 64-bit variant), the hash Envoy's hash policies use, written from the
 * algorithm's public specification. Characters are hashed as bytes (their low 8 bits): header
 * values are ISO-8859-1/ASCII, as Netty stores them.
 */
public final class XxHash64 {
  private static final long P1 = 0x9E3779B185EBCA87L;
  private static final long P2 = 0xC2B2AE3D27D4EB4FL;
  private static final long P3 = 0x165667B19E3779F9L;
  private static final long P4 = 0x85EBCA77C2B2AE63L;
  private static final long P5 = 0x27D4EB2F165667C5L;

  private XxHash64() {}

  public static long hash(CharSequence s, long seed) {
    return hash(s, 0, s.length(), seed);
  }

  /** Hashes the bytes {@code s[from, to)}. */
  public static long hash(CharSequence s, int from, int to, long seed) {
    int len = to - from;
    int i = from;
    long h;
    if (len >= 32) {
      long v1 = seed + P1 + P2;
      long v2 = seed + P2;
      long v3 = seed;
      long v4 = seed - P1;
      int limit = to - 32;
      do {
        v1 = round(v1, readLong(s, i));
        v2 = round(v2, readLong(s, i + 8));
        v3 = round(v3, readLong(s, i + 16));
        v4 = round(v4, readLong(s, i + 24));
        i += 32;
      } while (i <= limit);
      h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
      h = mergeRound(h, v1);
      h = mergeRound(h, v2);
      h = mergeRound(h, v3);
      h = mergeRound(h, v4);
    } else {
      h = seed + P5;
    }
    h += len;
    while (i + 8 <= to) {
      h ^= round(0, readLong(s, i));
      h = Long.rotateLeft(h, 27) * P1 + P4;
      i += 8;
    }
    if (i + 4 <= to) {
      h ^= (readInt(s, i) & 0xFFFFFFFFL) * P1;
      h = Long.rotateLeft(h, 23) * P2 + P3;
      i += 4;
    }
    while (i < to) {
      h ^= (s.charAt(i) & 0xFFL) * P5;
      h = Long.rotateLeft(h, 11) * P1;
      i++;
    }
    h ^= h >>> 33;
    h *= P2;
    h ^= h >>> 29;
    h *= P3;
    h ^= h >>> 32;
    return h;
  }

  private static long round(long acc, long input) {
    acc += input * P2;
    acc = Long.rotateLeft(acc, 31);
    return acc * P1;
  }

  private static long mergeRound(long acc, long val) {
    acc ^= round(0, val);
    return acc * P1 + P4;
  }

  private static long readLong(CharSequence s, int i) {
    return (readInt(s, i) & 0xFFFFFFFFL) | ((long) readInt(s, i + 4) << 32);
  }

  private static int readInt(CharSequence s, int i) {
    return (s.charAt(i) & 0xFF)
        | (s.charAt(i + 1) & 0xFF) << 8
        | (s.charAt(i + 2) & 0xFF) << 16
        | (s.charAt(i + 3) & 0xFF) << 24;
  }
}
