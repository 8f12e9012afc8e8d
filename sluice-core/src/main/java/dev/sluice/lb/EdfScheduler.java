package dev.sluice.lb;

/**
 * Earliest-deadline-first over entries 0..n-1 (Envoy's EdfScheduler): a binary min-heap keyed by
 * deadline, ties broken by insertion order. The caller decides each entry's next deadline, which
 * is how round robin keeps weights exact and least request re-weighs by active requests.
 * One worker owns an instance; not thread-safe.
 */
final class EdfScheduler {
  private final double[] deadline;
  private final long[] order;
  private final int[] heap;
  private int size;
  private long nextOrder;

  EdfScheduler(int capacity) {
    deadline = new double[capacity];
    order = new long[capacity];
    heap = new int[capacity];
  }

  boolean isEmpty() {
    return size == 0;
  }

  double deadline(int entry) {
    return deadline[entry];
  }

  void add(int entry, double when) {
    deadline[entry] = when;
    order[entry] = nextOrder++;
    int i = size++;
    heap[i] = entry;
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (!less(heap[i], heap[parent])) {
        break;
      }
      swap(i, parent);
      i = parent;
    }
  }

  /** Removes and returns the entry with the earliest deadline. */
  int pick() {
    int top = heap[0];
    heap[0] = heap[--size];
    int i = 0;
    while (true) {
      int l = 2 * i + 1;
      int smallest = i;
      if (l < size && less(heap[l], heap[smallest])) {
        smallest = l;
      }
      if (l + 1 < size && less(heap[l + 1], heap[smallest])) {
        smallest = l + 1;
      }
      if (smallest == i) {
        return top;
      }
      swap(i, smallest);
      i = smallest;
    }
  }

  private boolean less(int a, int b) {
    return deadline[a] < deadline[b] || (deadline[a] == deadline[b] && order[a] < order[b]);
  }

  private void swap(int i, int j) {
    int t = heap[i];
    heap[i] = heap[j];
    heap[j] = t;
  }
}
