package dev.sluice.bookinfo;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * ratings: {@code GET /ratings/<id>} gives each reviewer's stars (5 and 4 unless a POST replaced
 * them), {@code POST /ratings/<id>} with a JSON body stores that product's ratings in memory and
 * answers them, {@code GET /health}. The special versions misbehave as the originals do:
 * {@code v-faulty} answers half of the GETs 503, {@code v-delayed} delays half of them (7 s),
 * {@code v-unavailable} answers 503 during every other minute.
 */
public final class RatingsService implements ServiceHandler {
  /** The ratings versions this service can be. */
  public enum Version {
    V1("v1"),
    FAULTY("v-faulty"),
    DELAYED("v-delayed"),
    UNAVAILABLE("v-unavailable");

    private final String label;

    Version(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }

    public static Optional<Version> fromLabel(String label) {
      for (Version version : values()) {
        if (version.label.equals(label)) {
          return Optional.of(version);
        }
      }
      return Optional.empty();
    }
  }

  static final Duration DEFAULT_DELAY = Duration.ofSeconds(7);
  private static final long UNAVAILABLE_PERIOD_MILLIS = 60_000;

  private final Version version;
  private final RandomGenerator random;
  private final LongSupplier clockMillis;
  private final long startMillis;
  private final Duration delay;
  private final Map<Long, JsonObject> userAddedRatings = new ConcurrentHashMap<>();

  public RatingsService(Version version, RandomGenerator random, LongSupplier clockMillis, Duration delay) {
    this.version = version;
    this.random = random;
    this.clockMillis = clockMillis;
    this.startMillis = clockMillis.getAsLong();
    this.delay = delay;
  }

  /** A ratings service of {@code version} with real randomness, clock and the original's 7 s delay. */
  public static RatingsService of(Version version) {
    return new RatingsService(version, RandomGenerator.getDefault(), System::currentTimeMillis, DEFAULT_DELAY);
  }

  @Override
  public ServiceResponse handle(ServiceRequest request) throws InterruptedException {
    String path = request.path();
    if (request.method().equals("GET") && path.equals("/health")) {
      JsonObject health = new JsonObject();
      health.addProperty("status", "Ratings is healthy");
      return ServiceResponse.json(200, Json.write(health));
    }
    if (!path.startsWith("/ratings/")) {
      return ServiceResponse.text(404, "Not Found");
    }
    OptionalLong id = ProductIds.parse(path.substring(path.lastIndexOf('/') + 1));
    return switch (request.method()) {
      case "GET" -> id.isEmpty() ? notNumeric() : get(id.getAsLong());
      case "POST" -> id.isEmpty() ? notNumeric() : post(id.getAsLong(), request.bodyText());
      default -> ServiceResponse.text(404, "Not Found");
    };
  }

  private ServiceResponse get(long id) throws InterruptedException {
    switch (version) {
      case FAULTY -> {
        if (random.nextDouble() <= 0.5) {
          return unavailable();
        }
      }
      case DELAYED -> {
        if (random.nextDouble() <= 0.5) {
          Thread.sleep(delay);
        }
      }
      case UNAVAILABLE -> {
        if ((clockMillis.getAsLong() - startMillis) / UNAVAILABLE_PERIOD_MILLIS % 2 == 1) {
          return unavailable();
        }
      }
      case V1 -> {}
    }
    return ServiceResponse.json(200, Json.write(ratings(id)));
  }

  private ServiceResponse post(long id, String body) {
    Optional<JsonElement> ratings = Json.parse(body).filter(element -> !element.isJsonNull());
    if (ratings.isEmpty()) {
      return ServiceResponse.json(400, Json.write(Json.error("please provide valid ratings JSON")));
    }
    JsonObject stored = new JsonObject();
    stored.addProperty("id", id);
    stored.add("ratings", ratings.get());
    userAddedRatings.put(id, stored);
    return ServiceResponse.json(200, Json.write(stored));
  }

  private JsonObject ratings(long id) {
    JsonObject stored = userAddedRatings.get(id);
    if (stored != null) {
      return stored;
    }
    JsonObject stars = new JsonObject();
    stars.addProperty("Reviewer1", 5);
    stars.addProperty("Reviewer2", 4);
    JsonObject ratings = new JsonObject();
    ratings.addProperty("id", id);
    ratings.add("ratings", stars);
    return ratings;
  }

  private static ServiceResponse notNumeric() {
    return ServiceResponse.json(400, Json.write(Json.error("please provide numeric product ID")));
  }

  private static ServiceResponse unavailable() {
    return ServiceResponse.json(503, Json.write(Json.error("Service unavailable")));
  }
}
