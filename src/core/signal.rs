//! What an event means to session intelligence: a typed reading of a validated spec event
//! (`Product Viewed` with its product, `Order Completed` with its revenue…). The tracker
//! derives it from the properties a page sent; the lab derives it from the same properties
//! its adapters build from recorded data, so both feed the scores the same way.
//!
//! Must not touch: validation (events arrive valid) or anything about delivery.

use crate::core::json::Value;
use crate::core::prelude::*;

/// A product as far as interests, the cart and prices are concerned.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Product {
    pub id: String,
    /// A dotted path (`electronics.smartphone`), as the Segment spec's `category` usually is.
    pub category: Option<String>,
    pub brand: Option<String>,
    pub price: Option<f64>,
    pub quantity: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Signal {
    Page,
    ListViewed,
    Clicked(Product),
    Viewed(Product),
    Added(Product),
    Removed(Product),
    /// Added to a wishlist, or saved for later.
    Saved(Product),
    /// The cart as the shop shows it: a snapshot that replaces what the tracker counted.
    CartViewed(Vec<Product>),
    CheckoutStarted(Vec<Product>),
    Ordered {
        order_id: Option<String>,
        revenue: f64,
        products: Vec<Product>,
    },
    Other,
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.as_str().to_string()),
        _ => None,
    }
}

fn number(value: Option<&Value>) -> Option<f64> {
    value?.as_f64().filter(|x| x.is_finite())
}

/// The product an object describes (the properties of a product event, or an entry of
/// `products`); `None` without a `product_id`.
pub fn product(object: &Value) -> Option<Product> {
    Some(Product {
        id: text(object.get("product_id"))?,
        category: text(object.get("category")),
        brand: text(object.get("brand")),
        price: number(object.get("price")),
        quantity: number(object.get("quantity")).filter(|q| *q >= 1.0).unwrap_or(1.0),
    })
}

fn products(properties: &Value) -> Vec<Product> {
    let items = properties.get("products").and_then(Value::as_array).unwrap_or(&[]);
    items.iter().filter_map(product).collect()
}

/// The signal of a `track` event with (validated) `properties`.
pub fn from_track(event: &str, properties: &Value) -> Signal {
    let single = || product(properties);
    match event {
        "Product Viewed" => single().map_or(Signal::Other, Signal::Viewed),
        "Product Clicked" => single().map_or(Signal::Other, Signal::Clicked),
        "Product Added" | "Wishlist Product Added to Cart" => single().map_or(Signal::Other, Signal::Added),
        "Product Removed" => single().map_or(Signal::Other, Signal::Removed),
        "Product Added to Wishlist" => single().map_or(Signal::Other, Signal::Saved),
        "Product List Viewed" | "Product List Filtered" | "Products Searched" => Signal::ListViewed,
        "Cart Viewed" => Signal::CartViewed(products(properties)),
        "Checkout Started" => Signal::CheckoutStarted(products(properties)),
        "Order Completed" => {
            let products = products(properties);
            let revenue = ["revenue", "total"]
                .iter()
                .find_map(|key| number(properties.get(key)))
                .unwrap_or_else(|| products.iter().map(|p| p.price.unwrap_or(0.0) * p.quantity).sum());
            Signal::Ordered {
                order_id: text(properties.get("order_id")),
                revenue,
                products,
            }
        }
        _ => Signal::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json;

    fn signal(event: &str, props: &str) -> Signal {
        from_track(event, &json::parse(props).unwrap())
    }

    #[test]
    fn spec_events_read_as_signals() {
        let phone = Product {
            id: "1004856".into(),
            category: Some("electronics.smartphone".into()),
            brand: Some("samsung".into()),
            price: Some(130.76),
            quantity: 1.0,
        };
        let props = r#"{"product_id":1004856,"category":"electronics.smartphone","brand":"samsung","price":130.76}"#;
        assert_eq!(signal("Product Viewed", props), Signal::Viewed(phone.clone()));
        assert_eq!(signal("Product Added", props), Signal::Added(phone.clone()));
        assert_eq!(
            signal("Product Removed", r#"{"product_id":"a","quantity":3}"#),
            Signal::Removed(Product {
                id: "a".into(),
                quantity: 3.0,
                ..Product::default()
            })
        );
        assert_eq!(signal("Product Viewed", r#"{"name":"no id"}"#), Signal::Other);
        assert_eq!(signal("Product List Viewed", "{}"), Signal::ListViewed);
        assert_eq!(signal("Signed Up", "{}"), Signal::Other);
        let order = signal(
            "Order Completed",
            r#"{"order_id":"o1","products":[{"product_id":"a","price":2.5,"quantity":2},{"price":9}]}"#,
        );
        let Signal::Ordered {
            order_id,
            revenue,
            products,
        } = order
        else {
            panic!("{order:?}")
        };
        assert_eq!((order_id.as_deref(), revenue, products.len()), (Some("o1"), 5.0, 1));
        let Signal::Ordered { revenue, .. } = signal("Order Completed", r#"{"total":7,"revenue":6}"#) else {
            panic!()
        };
        assert_eq!(revenue, 6.0, "revenue first, then total, then the products");
    }
}
