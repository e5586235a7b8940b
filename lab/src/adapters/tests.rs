use super::*;

fn load_str(text: &str, format: Format, policy: OnError) -> (Result<Dataset, DataError>, Problems) {
    let mut problems = Problems::new(policy);
    let result = load(text.as_bytes(), format, &mut problems);
    (result, problems)
}

fn names(data: &Dataset) -> Vec<&str> {
    data.events.iter().map(|e| e.name.as_str()).collect()
}

const TAOBAO: &str = "1,100,7,pv,1511544070\n\
1,100,7,cart,1511544080\n\
2,200,8,fav,1511544090\n\
1,100,7,buy,1511544100\n";

#[test]
fn taobao_rows_become_spec_events() {
    let (data, problems) = load_str(TAOBAO, Format::Taobao, OnError::Stop);
    let data = data.unwrap();
    assert_eq!(problems.skipped, 0);
    assert_eq!(data.visitors, ["1", "2"]);
    assert_eq!(data.rows, 4);
    assert_eq!(
        names(&data),
        [
            "Product Viewed",
            "Product Added",
            "Product Added to Wishlist",
            "Order Completed"
        ]
    );
    let e = &data.events;
    assert_eq!(e[0].time, 1_511_544_070_000.0, "seconds → ms");
    assert_eq!(e[0].properties, r#"{"product_id":"100","category":"7"}"#);
    assert_eq!(e[1].properties, r#"{"product_id":"100","category":"7","quantity":1}"#);
    assert_eq!(
        e[3].properties,
        r#"{"products":[{"product_id":"100","category":"7","quantity":1}]}"#
    );
    assert_eq!((e[2].visitor, e[2].line), (1, 3));
}

#[test]
fn taobao_malformed_rows_name_their_line_and_skip_or_stop() {
    let text = "1,100,7,pv,1511544070\n\
1,100,7,click,1511544071\n\
\n\
1,100,7,pv,soon\n\
1,100,pv,1511544072\n\
,100,7,pv,1511544073\n\
1,101,7,pv,1511544074\n\
1,102,7,pv,-5\n\
1,103,7,pv,99999999999999\n";
    let (stopped, _) = load_str(text, Format::Taobao, OnError::Stop);
    assert_eq!(
        stopped.unwrap_err().to_string(),
        "line 2: unknown behavior `click` (expected pv, cart, fav or buy)"
    );
    let (skipped, problems) = load_str(text, Format::Taobao, OnError::Skip);
    let data = skipped.unwrap();
    assert_eq!(data.events.len(), 2, "the two good rows");
    assert_eq!(data.events[1].line, 7, "blank lines still count as lines");
    assert_eq!(problems.skipped, 6);
    let messages: Vec<String> = problems.examples.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "line 2: unknown behavior `click` (expected pv, cart, fav or buy)",
            "line 4: timestamp `soon` is not a whole number of seconds",
            "line 5: expected 5 fields (user_id,item_id,category_id,behavior,timestamp), found 4",
            "line 6: user_id is empty",
            "line 8: timestamp `-5` is outside 1970-01-01..9999-12-31",
        ],
        "the first five problems are kept as examples"
    );
    let (far, _) = load_str("1,103,7,pv,99999999999999\n", Format::Taobao, OnError::Stop);
    assert_eq!(
        far.unwrap_err().to_string(),
        "line 1: timestamp `99999999999999` is outside 1970-01-01..9999-12-31"
    );
    let report = problems.report().unwrap();
    assert!(report.starts_with("skipped 6 malformed row(s)\n  line 2:"), "{report}");
}

const REES46_HEADER: &str =
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session";

#[test]
fn rees46_rows_become_spec_events_grouped_by_user() {
    let text = format!(
        "{REES46_HEADER}\n\
2019-10-01 00:00:00 UTC,view,44600062,2103807459595387724,,shiseido,35.79,541312140,s1\n\
2019-10-01 00:00:05 UTC,cart,3900821,2053013552326770905,appliances.environment.water_heater,aqua,33.20,541312140,s1\n\
2019-10-01 00:00:09 UTC,remove_from_cart,3900821,2053013552326770905,appliances.environment.water_heater,aqua,33.20,541312140,s2\n\
2019-10-01 00:01:00 UTC,purchase,3900821,2053013552326770905,appliances.environment.water_heater,,33.20,7,s3\n"
    );
    let (data, _) = load_str(&text, Format::Rees46, OnError::Stop);
    let data = data.unwrap();
    assert_eq!(data.visitors, ["541312140", "7"], "by user_id, not user_session");
    assert_eq!(data.rows, 4, "the header is no row");
    assert_eq!(
        names(&data),
        ["Product Viewed", "Product Added", "Product Removed", "Order Completed"]
    );
    let e = &data.events;
    assert_eq!(e[0].time, 1_569_888_000_000.0);
    assert_eq!(
        e[0].properties,
        r#"{"product_id":"44600062","brand":"shiseido","price":35.79}"#
    );
    assert_eq!(
        e[1].properties,
        r#"{"product_id":"3900821","category":"appliances.environment.water_heater","brand":"aqua","price":33.2,"quantity":1}"#
    );
    assert_eq!(
        e[3].properties,
        r#"{"products":[{"product_id":"3900821","category":"appliances.environment.water_heater","price":33.2,"quantity":1}]}"#
    );
}

#[test]
fn rees46_malformed_rows_and_headers() {
    let text = format!(
        "{REES46_HEADER}\n\
2019-10-01 00:00:00,view,1,2,,b,3.5,9,s\n\
2019-10-01 00:00:00 UTC,view,1,2,,b,cheap,9,s\n\
2019-10-01 00:00:00 UTC,refund,1,2,,b,3.5,9,s\n\
2019-10-01 00:00:00 UTC,view,1,2,,b,-3,9,s\n\
2019-10-01 00:00:00 UTC,view,1,2\n\
2019-10-01 00:00:00 UTC,view,1,2,,\"b, inc\",3.5,9,s\n"
    );
    let (_, problems) = load_str(&text, Format::Rees46, OnError::Skip);
    let messages: Vec<String> = problems.examples.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "line 2: event_time `2019-10-01 00:00:00` is not a time like `2019-10-01 00:00:00 UTC`",
            "line 3: price `cheap` is not a non-negative number",
            "line 4: unknown event_type `refund` (expected view, cart, remove_from_cart or purchase)",
            "line 5: price `-3` is not a non-negative number",
            "line 6: expected at least 9 fields, found 4",
        ]
    );
    let (data, _) = load_str(&text, Format::Rees46, OnError::Skip);
    let data = data.unwrap();
    assert_eq!(data.events.len(), 1, "the quoted brand with a comma reads");
    assert!(data.events[0].properties.contains(r#""brand":"b, inc""#));
    let (no_header, _) = load_str("event_time,event_type\n", Format::Rees46, OnError::Skip);
    assert_eq!(
        no_header.unwrap_err().to_string(),
        "line 1: the REES46 header has no `product_id` column (header: `event_time,event_type`)"
    );
}

#[test]
fn otto_sessions_are_visitors() {
    let text = r#"{"session":0,"events":[{"aid":15,"ts":1659304800025,"type":"clicks"},{"aid":16,"ts":1659304900000,"type":"carts"},{"aid":16,"ts":1659305000000,"type":"orders"}]}
{"session":1,"events":[{"aid":15,"ts":1659304800025,"type":"clicks"}]}
{"session":2,"events":[{"aid":15,"ts":1659304800025,"type":"views"}]}
{"session":3,"events":[{"aid":15,"ts":"yesterday","type":"clicks"}]}
{"session":4,
{"session":5,"events":[{"aid":15,"ts":1e999,"type":"clicks"}]}
{"session":6,"events":[{"aid":15,"ts":-1,"type":"clicks"}]}
"#;
    let (stopped, _) = load_str(text, Format::Otto, OnError::Stop);
    assert_eq!(
        stopped.unwrap_err().to_string(),
        "line 3: events[0].type is \"views\", not clicks, carts or orders"
    );
    let (data, problems) = load_str(text, Format::Otto, OnError::Skip);
    let data = data.unwrap();
    assert_eq!(data.visitors, ["0", "1"]);
    assert_eq!(
        names(&data),
        ["Product Viewed", "Product Added", "Order Completed", "Product Viewed"]
    );
    assert_eq!(data.events[0].time, 1_659_304_800_025.0, "ms as they are");
    assert_eq!(data.events[1].properties, r#"{"product_id":"16","quantity":1}"#);
    let messages: Vec<String> = problems.examples.iter().map(ToString::to_string).collect();
    assert_eq!(messages[1], "line 4: events[0].ts must be a number (ms)");
    assert!(messages[2].starts_with("line 5: is not valid JSON"), "{}", messages[2]);
    assert_eq!(
        messages[3], "line 6: events[0].ts must be a number (ms)",
        "1e999 is not finite"
    );
    assert_eq!(messages[4], "line 7: events[0].ts -1 is outside 1970-01-01..9999-12-31");
}

#[test]
fn ndjson_replays_track_items_by_anonymous_id() {
    let text = r#"{"type":"track","event":"Product Viewed","properties":{"product_id":"p1","price":5},"anonymousId":"a1","messageId":"m1","timestamp":"2026-11-25T07:49:39.123Z","receivedAt":"x"}
{"type":"page","properties":{},"anonymousId":"a1","timestamp":"2026-11-25T07:49:40.000Z"}
{"type":"track","event":"Session Summarized","properties":{"events":3},"anonymousId":"a1","timestamp":"2026-11-25T07:50:00.000Z"}
{"type":"track","event":"Signed Up","userId":"u9","timestamp":"2026-11-25T08:00:00+01:00"}
{"type":"track","event":"Product Added","properties":{"product_id":"p1"},"anonymousId":"a1","timestamp":"25/11/2026"}
{"type":"track","properties":{},"anonymousId":"a1","timestamp":"2026-11-25T07:49:39.123Z"}
["not", "an", "object"]
"#;
    let (data, problems) = load_str(text, Format::Ndjson, OnError::Skip);
    let data = data.unwrap();
    assert_eq!(data.visitors, ["a1", "u9"]);
    assert_eq!(names(&data), ["Product Viewed", "Signed Up"]);
    assert_eq!(data.ignored, 2, "a page item and a summary");
    assert_eq!(data.events[0].properties, r#"{"product_id":"p1","price":5}"#);
    assert_eq!(data.events[0].time, 1_795_592_979_123.0);
    assert_eq!(data.events[1].properties, "{}");
    assert_eq!(data.events[1].time, 1_795_590_000_000.0, "offsets are honoured");
    let messages: Vec<String> = problems.examples.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "line 5: timestamp `25/11/2026` is not an ISO-8601 date",
            "line 6: `event` must be a non-empty string",
            "line 7: is not a JSON object",
        ]
    );
}

#[test]
fn invalid_utf8_is_a_row_error() {
    let bytes = b"1,100,7,pv,1511544070\n1,\xff,7,pv,1511544071\n";
    let mut problems = Problems::new(OnError::Stop);
    let error = load(bytes, Format::Taobao, &mut problems).unwrap_err();
    assert_eq!(error.to_string(), "line 2: is not valid UTF-8");
}

#[test]
fn csv_fields_split_with_quotes() {
    assert_eq!(split_csv("a,\"b,c\",\"d\"\"e\",").unwrap(), ["a", "b,c", "d\"e", ""]);
    assert_eq!(split_csv("\"open").unwrap_err(), "a quoted field is not closed");
    assert_eq!(split_csv("a\"b").unwrap_err(), "a quote inside an unquoted field");
}
