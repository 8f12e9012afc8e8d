package dev.sluice.mesh.cli;

import java.io.PrintWriter;
import java.util.List;

/** Left-aligned columns separated by at least three spaces, as kubectl and istioctl print them. */
final class Table {
  private Table() {}

  static void print(PrintWriter out, List<String[]> rows) {
    int columns = rows.getFirst().length;
    int[] width = new int[columns];
    for (String[] r : rows) {
      for (int i = 0; i < columns; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    for (String[] r : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < columns; i++) {
        line.append(r[i]);
        if (i < columns - 1) {
          line.append(" ".repeat(width[i] - r[i].length() + 3));
        }
      }
      out.println(line.toString().stripTrailing());
    }
  }
}
