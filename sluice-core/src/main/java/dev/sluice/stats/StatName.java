package dev.sluice.stats;

/**
 * A stat's name kept as two strings, its scope's prefix (shared by the scope's stats) and its own
 * suffix (a literal shared by every scope): hashed and compared as their concatenation without
 * building it, so a stat made through a scope and one looked up by its full name are the same.
 */
final class StatName {
  private StatName() {}

  /** {@code (prefix + suffix).hashCode()}, from the two strings' cached hashes. */
  static int hash(String prefix, String suffix) {
    int h = prefix.hashCode();
    for (int i = 0; i < suffix.length(); i++) {
      h *= 31;
    }
    return h + suffix.hashCode();
  }

  static String concat(String prefix, String suffix) {
    return prefix.isEmpty() ? suffix : prefix.concat(suffix);
  }

  /** True when {@code p1 + s1} equals {@code p2 + s2}. */
  static boolean sameName(String p1, String s1, String p2, String s2) {
    int n = p1.length() + s1.length();
    if (n != p2.length() + s2.length()) {
      return false;
    }
    if (p1.length() == p2.length()) {
      return p1.equals(p2) && s1.equals(s2);
    }
    for (int i = 0; i < n; i++) {
      if (charAt(p1, s1, i) != charAt(p2, s2, i)) {
        return false;
      }
    }
    return true;
  }

  private static char charAt(String prefix, String suffix, int i) {
    return i < prefix.length() ? prefix.charAt(i) : suffix.charAt(i - prefix.length());
  }
}
