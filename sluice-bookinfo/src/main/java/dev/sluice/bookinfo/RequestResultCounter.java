package dev.sluice.bookinfo;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * productpage's {@code request_result} counter: results of its calls by destination app and
 * response code, exposed on {@code /metrics} in the Prometheus text format.
 */
final class RequestResultCounter {
  private record Key(String destinationApp, int responseCode) {}

  private final Map<Key, LongAdder> counts = new ConcurrentHashMap<>();

  void increment(String destinationApp, int responseCode) {
    counts.computeIfAbsent(new Key(destinationApp, responseCode), key -> new LongAdder()).increment();
  }

  String prometheusText() {
    var sorted = new TreeMap<String, Long>();
    counts.forEach(
        (key, count) ->
            sorted.put(
                "request_result_total{destination_app=\"" + key.destinationApp()
                    + "\",response_code=\"" + key.responseCode() + "\"}",
                count.sum()));
    var text = new StringBuilder();
    text.append("# HELP request_result_total Results of requests\n");
    text.append("# TYPE request_result_total counter\n");
    sorted.forEach((series, count) -> text.append(series).append(' ').append(count).append(".0\n"));
    return text.toString();
  }
}
