package dev.sluice.lb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.api.upstream.Host;
import io.envoyproxy.envoy.config.core.v3.Locality;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Priority load and panic against the tables of Envoy's priority-levels documentation. */
class PrioritySetTest {
  private static int counter;

  /** 100 hosts of which {@code healthyPercent} are healthy. */
  static LocalityGroup priority(int p, int healthyPercent) {
    return priority(p, healthyPercent, 0, 100);
  }

  static LocalityGroup priority(int p, int healthy, int degraded, int total) {
    List<Host> hosts = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      TestHost h = TestHost.of(counter++);
      if (i >= healthy + degraded) {
        h.unhealthy();
      } else if (i >= healthy) {
        h.markDegraded();
      }
      hosts.add(h);
    }
    return new LocalityGroup(p, Locality.getDefaultInstance(), 0, hosts);
  }

  @ParameterizedTest
  @CsvSource({
    "100, 100, 100, 0",
    "72, 100, 100, 0",
    "71, 100, 99, 1",
    "50, 100, 70, 30",
    "25, 100, 35, 65",
    "0, 100, 0, 100",
    "72, 72, 100, 0",
    "71, 71, 99, 1",
    "50, 50, 70, 30",
    "25, 25, 50, 50",
  })
  void twoPriorities(int p0Healthy, int p1Healthy, int p0Load, int p1Load) {
    PrioritySet set = new PrioritySet(List.of(priority(0, p0Healthy), priority(1, p1Healthy)), 140, 50);
    assertThat(set.healthyLoad(0)).isEqualTo(p0Load);
    assertThat(set.healthyLoad(1)).isEqualTo(p1Load);
  }

  @ParameterizedTest
  @CsvSource({
    "100, 100, 100, 100, 0, 0",
    "72, 72, 100, 100, 0, 0",
    "71, 71, 100, 99, 1, 0",
    "50, 50, 100, 70, 30, 0",
    "25, 100, 100, 35, 65, 0",
    "25, 25, 100, 35, 35, 30",
  })
  void threePriorities(int h0, int h1, int h2, int l0, int l1, int l2) {
    PrioritySet set = new PrioritySet(
        List.of(priority(0, h0), priority(1, h1), priority(2, h2)), 140, 50);
    assertThat(new int[] {set.healthyLoad(0), set.healthyLoad(1), set.healthyLoad(2)})
        .containsExactly(l0, l1, l2);
  }

  @Test
  void normalisesWhenTotalHealthIsBelowHundred() {
    // Health scores {20, 30} normalise to {40%, 60%} (Envoy docs): 100 hosts, 1.4 * x = 20 / 30.
    PrioritySet set = new PrioritySet(List.of(priority(0, 1, 0, 7), priority(1, 3, 0, 14)), 140, 0);
    assertThat(set.healthyLoad(0)).isEqualTo(40);
    assertThat(set.healthyLoad(1)).isEqualTo(60);
  }

  @Test
  void degradedHostsTakeWhatHealthyCannot() {
    // P0: 50% healthy, 50% degraded -> health 70, degraded 70; normalised total 100.
    PrioritySet set = new PrioritySet(List.of(priority(0, 50, 50, 100)), 140, 50);
    assertThat(set.healthyLoad(0)).isEqualTo(70);
    assertThat(set.degradedLoad(0)).isEqualTo(30);
    assertThat(set.choosePriority(68)).isEqualTo(0); // point 69: healthy
    assertThat(set.choosePriority(70)).isEqualTo(1); // point 71: degraded hosts of P0
  }

  @Test
  void panicWhenHealthyShareBelowThreshold() {
    // Envoy docs: P0 25% healthy is in panic but still gets 35%; P1 100% healthy is not.
    PrioritySet set = new PrioritySet(List.of(priority(0, 25), priority(1, 100)), 140, 50);
    assertThat(set.panic(0)).isTrue();
    assertThat(set.panic(1)).isFalse();
    assertThat(set.healthyLoad(0)).isEqualTo(35);
  }

  @Test
  void totalPanicSpreadsByHostCount() {
    PrioritySet set = new PrioritySet(
        List.of(priority(0, 5, 0, 100), priority(1, 5, 0, 300)), 140, 50);
    assertThat(set.panic(0)).isTrue();
    assertThat(set.panic(1)).isTrue();
    assertThat(set.healthyLoad(0)).isEqualTo(25);
    assertThat(set.healthyLoad(1)).isEqualTo(75);
  }

  @Test
  void zeroThresholdDisablesPanic() {
    PrioritySet set = new PrioritySet(List.of(priority(0, 0, 0, 10)), 140, 0);
    assertThat(set.panic(0)).isFalse();
    assertThat(set.healthyLoad(0)).isEqualTo(100);
  }

  @Test
  void customOverprovisioningFactor() {
    // Factor 100: 50% healthy P0 carries exactly 50%.
    PrioritySet set = new PrioritySet(List.of(priority(0, 50), priority(1, 100)), 100, 50);
    assertThat(set.healthyLoad(0)).isEqualTo(50);
    assertThat(set.healthyLoad(1)).isEqualTo(50);
  }
}
