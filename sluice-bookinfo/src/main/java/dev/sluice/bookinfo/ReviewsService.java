package dev.sluice.bookinfo;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * reviews: {@code GET /reviews/<id>} gives the two reviews, {@code GET /health}. With ratings
 * enabled (v2, v3) it asks ratings for each reviewer's stars and adds
 * {@code "rating":{"stars":N,"color":C}}, or {@code "rating":{"error":"Ratings service is currently
 * unavailable"}} when ratings does not answer 200 in time; v1 has no rating and never calls ratings.
 * The timeout is the original's: 10 s with black stars (v2), 2.5 s otherwise (v3).
 */
public final class ReviewsService implements ServiceHandler {
  static final String RATINGS_UNAVAILABLE = "Ratings service is currently unavailable";
  static final Duration BLACK_STARS_TIMEOUT = Duration.ofSeconds(10);
  static final Duration OTHER_STARS_TIMEOUT = Duration.ofMillis(2500);

  private static final List<String[]> REVIEWS =
      List.of(
          new String[] {"Reviewer1", "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!"},
          new String[] {
            "Reviewer2",
            "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare."
          });

  private final String podName;
  private final String clusterName;
  private final boolean ratingsEnabled;
  private final String starColor;
  private final URI ratingsBase;
  private final OutboundClient outbound;
  private final Duration ratingsTimeout;

  /**
   * @param clusterName the original's CLUSTER_NAME, the string "null" when unset
   * @param ratingsBase {@code http://ratings:9080} or its override
   */
  public ReviewsService(
      String podName,
      String clusterName,
      boolean ratingsEnabled,
      String starColor,
      URI ratingsBase,
      OutboundClient outbound,
      Duration ratingsTimeout) {
    this.podName = podName;
    this.clusterName = clusterName;
    this.ratingsEnabled = ratingsEnabled;
    this.starColor = starColor;
    this.ratingsBase = ratingsBase;
    this.outbound = outbound;
    this.ratingsTimeout = ratingsTimeout;
  }

  /** The original's ratings timeout for a star colour. */
  public static Duration ratingsTimeoutFor(String starColor) {
    return starColor.equals("black") ? BLACK_STARS_TIMEOUT : OTHER_STARS_TIMEOUT;
  }

  @Override
  public ServiceResponse handle(ServiceRequest request) throws InterruptedException {
    List<String> segments = request.segments();
    if (request.method().equals("GET") && request.path().equals("/health")) {
      JsonObject health = new JsonObject();
      health.addProperty("status", "Reviews is healthy");
      return ServiceResponse.json(200, Json.write(health));
    }
    // The original binds the id to a Java int; a path that does not convert matches no resource.
    OptionalLong id =
        segments.size() == 2 && segments.getFirst().equals("reviews")
            ? ProductIds.parse(segments.getLast()).stream()
                .filter(value -> value == (int) value)
                .findFirst()
            : OptionalLong.empty();
    if (!request.method().equals("GET") || id.isEmpty()) {
      return ServiceResponse.text(404, "Not Found");
    }
    int[] stars = ratingsEnabled ? stars(id.getAsLong(), request) : new int[] {-1, -1};
    return ServiceResponse.json(200, Json.write(reviews(id.getAsLong(), stars)));
  }

  /** Each reviewer's stars from ratings, -1 where ratings gave none. */
  private int[] stars(long id, ServiceRequest request) throws InterruptedException {
    int[] stars = {-1, -1};
    Optional<OutboundClient.Reply> reply =
        outbound.get(ratingsBase.resolve("/ratings/" + id), ForwardHeaders.from(request), ratingsTimeout);
    Optional<JsonObject> ratings =
        reply
            .filter(r -> r.status() == 200)
            .flatMap(r -> Json.parseObject(r.body()))
            .map(body -> body.get("ratings"))
            .filter(JsonElement::isJsonObject)
            .map(JsonElement::getAsJsonObject);
    if (ratings.isPresent()) {
      for (int i = 0; i < REVIEWS.size(); i++) {
        stars[i] = intOrMissing(ratings.get().get(REVIEWS.get(i)[0]));
      }
    }
    return stars;
  }

  private static int intOrMissing(JsonElement value) {
    if (value == null || !value.isJsonPrimitive() || !value.getAsJsonPrimitive().isNumber()) {
      return -1;
    }
    return value.getAsInt();
  }

  private JsonObject reviews(long id, int[] stars) {
    JsonObject body = new JsonObject();
    body.addProperty("id", Long.toString(id));
    body.addProperty("podname", podName);
    body.addProperty("clustername", clusterName);
    JsonArray reviews = new JsonArray();
    for (int i = 0; i < REVIEWS.size(); i++) {
      JsonObject review = new JsonObject();
      review.addProperty("reviewer", REVIEWS.get(i)[0]);
      review.addProperty("text", REVIEWS.get(i)[1]);
      if (ratingsEnabled) {
        JsonObject rating = new JsonObject();
        if (stars[i] != -1) {
          rating.addProperty("stars", stars[i]);
          rating.addProperty("color", starColor);
        } else {
          rating.addProperty("error", RATINGS_UNAVAILABLE);
        }
        review.add("rating", rating);
      }
      reviews.add(review);
    }
    body.add("reviews", reviews);
    return body;
  }
}
