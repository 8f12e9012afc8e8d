# Sourced by the launcher and the test script: finds a JDK 25 and exports JAVA_HOME.
# The machine's default java is 17; Sluice needs 25 (Temurin at /usr/lib/jvm/temurin-25-jdk-amd64).
sluice_find_jdk() {
  local c
  for c in "${SLUICE_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64 /usr/lib/jvm/jdk-25*; do
    [ -n "$c" ] && [ -x "$c/bin/java" ] || continue
    if "$c/bin/java" -version 2>&1 | head -1 | grep -Eq '"(2[5-9]|[3-9][0-9])[."]'; then
      export JAVA_HOME="$c"
      return 0
    fi
  done
  echo "sluice: no JDK 25 found; install Temurin 25 at /usr/lib/jvm/temurin-25-jdk-amd64 or set SLUICE_JAVA_HOME" >&2
  return 1
}
