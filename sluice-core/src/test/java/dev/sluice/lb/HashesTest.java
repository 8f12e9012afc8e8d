package dev.sluice.lb;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HashesTest {
  @Test
  void xxHash64MatchesReferenceVectors() {
    assertThat(XxHash64.hash("")).isEqualTo(0xEF46DB3751D8E999L);
    assertThat(XxHash64.hash("a")).isEqualTo(0xD24EC4F1A98C6E5BL);
    assertThat(XxHash64.hash("abc")).isEqualTo(0x44BC2CF5AD770999L);
    // 39 bytes: exercises the 32-byte stripe loop, the 8-byte and the 1-byte tails.
    assertThat(XxHash64.hash("Nobody inspects the spammish repetition")).isEqualTo(0xFBCEA83C8A378BF1L);
  }

  @Test
  void xxHash64MatchesEnvoy() {
    // Envoy's HashUtil::xxHash64("foo") from its hash tests.
    assertThat(XxHash64.hash("foo")).isEqualTo(Long.parseUnsignedLong("3728699739546630719"));
  }

  @Test
  void xxHash64HonoursOffsetAndSeed() {
    byte[] padded = "xxabcxx".getBytes(StandardCharsets.UTF_8);
    assertThat(XxHash64.hash(padded, 2, 3, 0)).isEqualTo(XxHash64.hash("abc"));
    assertThat(XxHash64.hash("abc", 1)).isNotEqualTo(XxHash64.hash("abc"));
  }

  @Test
  void murmurHash2MatchesEnvoy() {
    // Envoy's MurmurHash::murmurHash2("foo") (std::hash seed) from its hash tests.
    assertThat(MurmurHash2.hash("foo")).isEqualTo(Long.parseUnsignedLong("9631199822919835226"));
  }
}
