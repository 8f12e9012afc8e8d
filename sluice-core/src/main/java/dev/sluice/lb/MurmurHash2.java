package dev.sluice.lb;

import java.nio.charset.StandardCharsets;

/**
 * The 64-bit MurmurHash2 variant of libstdc++'s {@code _Hash_bytes}, which Envoy uses for ring
 * hash {@code hash_function: MURMUR_HASH_2} (so rings match {@code std::hash<std::string>}).
 */
public final class MurmurHash2 {
  /** Envoy's {@code STD_HASH_SEED}, the seed libstdc++ passes for {@code std::hash<std::string>}. */
  public static final long STD_HASH_SEED = 0xc70f6907L;

  private static final long MUL = 0xc6a4a7935bd1e995L;

  private MurmurHash2() {}

  public static long hash(String s) {
    return hash(s.getBytes(StandardCharsets.UTF_8), STD_HASH_SEED);
  }

  public static long hash(byte[] in, long seed) {
    int len = in.length;
    int aligned = len & ~7;
    long h = seed ^ (len * MUL);
    for (int p = 0; p < aligned; p += 8) {
      long data = shiftMix(XxHash64.readLong(in, p) * MUL) * MUL;
      h ^= data;
      h *= MUL;
    }
    int rest = len & 7;
    if (rest != 0) {
      long data = 0;
      for (int i = rest - 1; i >= 0; i--) {
        data = (data << 8) + (in[aligned + i] & 0xFFL);
      }
      h ^= data;
      h *= MUL;
    }
    h = shiftMix(h) * MUL;
    return shiftMix(h);
  }

  private static long shiftMix(long v) {
    return v ^ (v >>> 47);
  }
}
