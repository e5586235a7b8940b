//! Autocapture: turning the documented `data-cs-*` markup into spec events.
//!
//! The shell finds the elements and hands over their `data-cs-*` attributes with the prefix
//! stripped (`data-cs-price="9.99"` arrives as `("price", "9.99")`); this module decides what
//! they mean. Numeric attributes become JSON numbers when they are numbers; when they are not,
//! they stay strings, and event validation rejects them with a message naming the field.
//!
//! Must not touch: the DOM.

use crate::core::json::{Number, Value};

/// Attributes as `(name without "data-cs-", value)`.
pub type Attrs = [(String, String)];

/// A container read when the page loads, and the event it produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    /// `data-cs-list="<list_id>"` → Product List Viewed
    List,
    /// `data-cs-cart="<cart_id>"` → Cart Viewed
    Cart,
    /// `data-cs-checkout="<checkout_id>"` → Checkout Started
    Checkout,
    /// `data-cs-order="<order_id>"` → Order Completed
    Order,
}

impl Container {
    pub const ALL: [Container; 4] = [Container::List, Container::Cart, Container::Checkout, Container::Order];

    /// The attribute (without `data-cs-`) that marks the container.
    pub fn attribute(self) -> &'static str {
        match self {
            Container::List => "list",
            Container::Cart => "cart",
            Container::Checkout => "checkout",
            Container::Order => "order",
        }
    }

    pub fn event(self) -> &'static str {
        match self {
            Container::List => "Product List Viewed",
            Container::Cart => "Cart Viewed",
            Container::Checkout => "Checkout Started",
            Container::Order => "Order Completed",
        }
    }
}

/// A click on a marked element, and the event it produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `data-cs-add` → Product Added
    Add,
    /// `data-cs-remove` → Product Removed
    Remove,
    /// a click inside a product of a `data-cs-list` → Product Clicked
    Click,
}

impl Action {
    pub fn event(self) -> &'static str {
        match self {
            Action::Add => "Product Added",
            Action::Remove => "Product Removed",
            Action::Click => "Product Clicked",
        }
    }
}

/// Attribute → property, and whether the value is a number.
const PROPERTIES: &[(&str, &str, bool)] = &[
    ("product", "product_id", false),
    ("list", "list_id", false),
    ("cart", "cart_id", false),
    ("checkout", "checkout_id", false),
    ("order", "order_id", false),
    ("name", "name", false),
    ("brand", "brand", false),
    ("category", "category", false),
    ("sku", "sku", false),
    ("variant", "variant", false),
    ("coupon", "coupon", false),
    ("currency", "currency", false),
    ("affiliation", "affiliation", false),
    ("url", "url", false),
    ("image", "image_url", false),
    ("price", "price", true),
    ("quantity", "quantity", true),
    ("position", "position", true),
    ("revenue", "revenue", true),
    ("total", "total", true),
    ("subtotal", "subtotal", true),
    ("shipping", "shipping", true),
    ("tax", "tax", true),
    ("discount", "discount", true),
    ("value", "value", true),
];

/// The properties an element's attributes describe. `data-cs-prop-<name>` carries a shop's own
/// field as a string; markers such as `data-cs-view` or `data-cs-add` carry nothing.
pub fn properties(attrs: &Attrs) -> Value {
    let mut object = Value::Object(Vec::new());
    for (name, raw) in attrs {
        if let Some(own) = name.strip_prefix("prop-") {
            if !own.is_empty() {
                object.set(own, Value::string(raw));
            }
            continue;
        }
        let Some((_, key, numeric)) = PROPERTIES.iter().find(|(attr, _, _)| attr == name) else {
            continue;
        };
        let text = raw.trim();
        let value = if *numeric {
            Number::parse(text).map_or_else(|| Value::string(text), Value::Number)
        } else {
            Value::string(text)
        };
        object.set(key, value);
    }
    object
}

/// Properties of a container event: the container's own fields and its products, numbered
/// by `position` (from 1) in lists when the markup does not say.
pub fn container_properties(container: Container, attrs: &Attrs, products: &[Vec<(String, String)>]) -> Value {
    let mut object = properties(attrs);
    let items = products
        .iter()
        .enumerate()
        .map(|(i, product)| {
            let mut p = properties(product);
            if container == Container::List && p.get("position").is_none() {
                p.set("position", Value::Number(Number::from_u64(i as u64 + 1)));
            }
            p
        })
        .collect();
    object.set("products", Value::Array(items));
    object
}

/// Properties of a click event on `product`. For clicks in a list, the list's id and the
/// product's position in it (from 1) are added; `quantity` overrides the markup's when the
/// shop points `data-cs-quantity-from` at an input.
pub fn action_properties(
    action: Action,
    product: &Attrs,
    list: Option<(&Attrs, usize)>,
    quantity: Option<&str>,
) -> Value {
    let mut object = properties(product);
    if let Some(q) = quantity {
        let q = q.trim();
        object.set(
            "quantity",
            Number::parse(q).map_or_else(|| Value::string(q), Value::Number),
        );
    }
    if action == Action::Add && object.get("quantity").is_none() {
        object.set("quantity", Value::Number(Number::from_u64(1)));
    }
    if let Some((list_attrs, index)) = list {
        if let Some((_, id)) = list_attrs.iter().find(|(name, _)| name == "list") {
            object.set("list_id", Value::string(id));
        }
        if object.get("position").is_none() {
            object.set("position", Value::Number(Number::from_u64(index as u64 + 1)));
        }
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn product_attributes_map_to_spec_properties() {
        let a = attrs(&[
            ("product", "1005115"),
            ("name", "Apple iPhone"),
            ("price", " 1081.98 "),
            ("brand", "apple"),
            ("category", "electronics.smartphone"),
            ("view", ""),
            ("image", "/img/1.jpg"),
            ("prop-color", "red"),
            ("unknown", "x"),
        ]);
        assert_eq!(
            properties(&a).to_json(),
            r#"{"product_id":"1005115","name":"Apple iPhone","price":1081.98,"brand":"apple","category":"electronics.smartphone","image_url":"/img/1.jpg","color":"red"}"#
        );
    }

    #[test]
    fn a_non_numeric_price_stays_a_string_for_validation_to_reject() {
        let p = properties(&attrs(&[("product", "p"), ("price", "1,299.00")]));
        assert_eq!(p.get("price"), Some(&Value::string("1,299.00")));
    }

    #[test]
    fn lists_number_their_products() {
        let products = vec![
            attrs(&[("product", "a")]),
            attrs(&[("product", "b"), ("position", "7")]),
        ];
        let v = container_properties(
            Container::List,
            &attrs(&[("list", "home"), ("category", "shoes")]),
            &products,
        );
        assert_eq!(
            v.to_json(),
            r#"{"list_id":"home","category":"shoes","products":[{"product_id":"a","position":1},{"product_id":"b","position":7}]}"#
        );
        let order = container_properties(
            Container::Order,
            &attrs(&[("order", "o1"), ("revenue", "10.5")]),
            &products[..1],
        );
        assert_eq!(
            order.to_json(),
            r#"{"order_id":"o1","revenue":10.5,"products":[{"product_id":"a"}]}"#
        );
    }

    #[test]
    fn clicks_carry_list_position_and_quantity() {
        let product = attrs(&[("product", "p9"), ("price", "5")]);
        let list = attrs(&[("list", "search")]);
        let clicked = action_properties(Action::Click, &product, Some((&list, 2)), None);
        assert_eq!(
            clicked.to_json(),
            r#"{"product_id":"p9","price":5,"list_id":"search","position":3}"#
        );
        let added = action_properties(Action::Add, &product, None, Some("3"));
        assert_eq!(added.to_json(), r#"{"product_id":"p9","price":5,"quantity":3}"#);
        let default_quantity = action_properties(Action::Add, &product, None, None);
        assert_eq!(default_quantity.get("quantity").and_then(Value::as_f64), Some(1.0));
        let bad = action_properties(Action::Add, &product, None, Some("two"));
        assert_eq!(bad.get("quantity"), Some(&Value::string("two")));
    }
}
