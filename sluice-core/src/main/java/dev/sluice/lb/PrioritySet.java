package dev.sluice.lb;

import dev.sluice.api.upstream.Host;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An immutable membership snapshot: hosts by priority and locality, and Envoy's priority load.
 *
 * <p>Each priority's health is {@code min(100, overprovisioning_factor * healthy / total)} (integer
 * arithmetic), likewise its degraded availability. Load goes first to healthy availability, in
 * priority order, normalised by {@code min(100, sum of all availabilities)}; what remains goes to
 * degraded availability; rounding leftovers go to the first priority with healthy (else degraded)
 * hosts. A priority whose healthy plus degraded share is below {@code healthy_panic_threshold} is in
 * panic (its balancer uses all its hosts); when every priority is, load follows host counts.
 */
public final class PrioritySet {
  private final List<HostSet> hostSets;
  private final List<List<Host>> hostsByPriority;
  private final int[] healthyLoad;
  private final int[] degradedLoad;
  private final boolean[] panic;
  private final int sourceCount;
  private final int totalHosts;
  private final List<LocalityGroup> groups;
  private final int overprovisioningFactor;
  private final int panicThreshold;

  /**
   * @param groups hosts by locality and priority
   * @param overprovisioningFactor {@code policy.overprovisioning_factor}, 140 by default
   * @param panicThreshold {@code healthy_panic_threshold} in percent (0 disables panic)
   */
  public PrioritySet(List<LocalityGroup> groups, int overprovisioningFactor, int panicThreshold) {
    this.groups = List.copyOf(groups);
    this.overprovisioningFactor = overprovisioningFactor;
    this.panicThreshold = panicThreshold;
    int priorities = 0;
    for (LocalityGroup g : groups) {
      priorities = Math.max(priorities, g.priority() + 1);
    }
    priorities = Math.max(priorities, 1);
    int[] nextId = {0};
    List<HostSet> sets = new ArrayList<>(priorities);
    List<List<Host>> byPriority = new ArrayList<>(priorities);
    int total = 0;
    for (int p = 0; p < priorities; p++) {
      List<LocalityGroup> mine = new ArrayList<>();
      for (LocalityGroup g : groups) {
        if (g.priority() == p) {
          mine.add(g);
        }
      }
      HostSet set = new HostSet(p, mine, overprovisioningFactor, nextId);
      sets.add(set);
      byPriority.add(List.of(set.all.hosts));
      total += set.all.size();
    }
    this.hostSets = List.copyOf(sets);
    this.hostsByPriority = List.copyOf(byPriority);
    this.sourceCount = nextId[0];
    this.totalHosts = total;
    this.healthyLoad = new int[priorities];
    this.degradedLoad = new int[priorities];
    this.panic = new boolean[priorities];
    computeLoad(overprovisioningFactor, Math.min(100, panicThreshold));
  }

  private void computeLoad(int overprovisioning, int panicThreshold) {
    int n = hostSets.size();
    int[] health = new int[n];
    int[] degraded = new int[n];
    for (int p = 0; p < n; p++) {
      HostSet s = hostSets.get(p);
      int count = s.all.size();
      if (count > 0) {
        health[p] = (int) Math.min(100, (long) overprovisioning * s.healthy.size() / count);
        degraded[p] = (int) Math.min(100, (long) overprovisioning * s.degraded.size() / count);
      }
    }
    int normalizedTotal = Math.min(100, Arrays.stream(health).sum() + Arrays.stream(degraded).sum());
    if (normalizedTotal > 0) {
      int first = distribute(healthyLoad, health, 100, normalizedTotal);
      int remaining = 100 - Arrays.stream(healthyLoad).sum();
      int firstDegraded = distribute(degradedLoad, degraded, remaining, normalizedTotal);
      int left = remaining - Arrays.stream(degradedLoad).sum();
      if (left != 0) {
        if (first >= 0) {
          healthyLoad[first] += left;
        } else {
          degradedLoad[firstDegraded] += left;
        }
      }
    }
    if (panicThreshold == 0 && normalizedTotal == 0) {
      // Panic disabled and nothing available: all load to P0, whose balancer then finds no host.
      Arrays.fill(healthyLoad, 0);
      Arrays.fill(degradedLoad, 0);
      healthyLoad[0] = 100;
      return;
    }
    boolean allPanic = true;
    for (int p = 0; p < n; p++) {
      HostSet s = hostSets.get(p);
      int count = s.all.size();
      double available =
          count == 0 ? 0 : 100.0 * (s.healthy.size() + s.degraded.size()) / count;
      panic[p] = normalizedTotal == 0 || available < panicThreshold;
      allPanic &= panic[p];
    }
    if (allPanic) {
      loadInTotalPanic();
    }
  }

  /** Returns the first priority with availability, or -1. */
  private static int distribute(int[] load, int[] availability, int total, int normalizedTotal) {
    int first = -1;
    for (int p = 0; p < availability.length; p++) {
      if (first < 0 && availability[p] > 0) {
        first = p;
      }
      load[p] = Math.min(total, availability[p] * 100 / normalizedTotal);
      total -= load[p];
    }
    return first;
  }

  /** Every priority in panic: load in proportion to host counts, regardless of health. */
  private void loadInTotalPanic() {
    Arrays.fill(degradedLoad, 0);
    Arrays.fill(healthyLoad, 0);
    if (totalHosts == 0) {
      healthyLoad[0] = 100;
      return;
    }
    int remaining = 100;
    int firstNonEmpty = -1;
    for (int p = 0; p < hostSets.size(); p++) {
      int count = hostSets.get(p).all.size();
      if (firstNonEmpty < 0 && count > 0) {
        firstNonEmpty = p;
      }
      healthyLoad[p] = 100 * count / totalHosts;
      remaining -= healthyLoad[p];
    }
    healthyLoad[firstNonEmpty] += remaining;
  }

  /**
   * Envoy's choosePriority: {@code hash % 100 + 1} walks the healthy loads, then the degraded ones.
   *
   * @return {@code priority * 2}, plus 1 when the pick is for the priority's degraded hosts
   */
  public int choosePriority(long hash) {
    int point = (int) Long.remainderUnsigned(hash, 100) + 1;
    int sum = 0;
    for (int p = 0; p < healthyLoad.length; p++) {
      sum += healthyLoad[p];
      if (point <= sum) {
        return p << 1;
      }
    }
    for (int p = 0; p < degradedLoad.length; p++) {
      sum += degradedLoad[p];
      if (point <= sum) {
        return (p << 1) | 1;
      }
    }
    return 0;
  }

  public List<HostSet> hostSets() {
    return hostSets;
  }

  public HostSet hostSet(int priority) {
    return hostSets.get(priority);
  }

  public List<List<Host>> hostsByPriority() {
    return hostsByPriority;
  }

  public int healthyLoad(int priority) {
    return healthyLoad[priority];
  }

  public int degradedLoad(int priority) {
    return degradedLoad[priority];
  }

  public boolean panic(int priority) {
    return panic[priority];
  }

  public int totalHosts() {
    return totalHosts;
  }

  /** The membership this set was built from (subset balancing filters it). */
  public List<LocalityGroup> groups() {
    return groups;
  }

  public int overprovisioningFactor() {
    return overprovisioningFactor;
  }

  public int panicThreshold() {
    return panicThreshold;
  }

  /** How many {@link HostSource}s this snapshot has (per-worker state arrays are this long). */
  int sourceCount() {
    return sourceCount;
  }
}
