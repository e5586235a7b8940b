//! The visitor's cart as the tracker sees it: lines added and removed, replaced by the shop's
//! own snapshot whenever it shows one (`Cart Viewed`, `Checkout Started`), emptied by an order.
//! Kept across pages and sessions: a returning visitor's cart is still theirs.
//!
//! Bounded: a cart holds at most [`MAX_LINES`] lines; beyond that the oldest line goes.

use crate::core::json::{ObjectWriter, Value};
use crate::core::prelude::*;
use crate::core::signal::Product;

pub const MAX_LINES: usize = 100;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cart {
    pub lines: Vec<Product>,
}

impl Cart {
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Units in the cart.
    pub fn items(&self) -> f64 {
        self.lines.iter().map(|l| l.quantity).sum()
    }

    /// Price × quantity over the lines whose price is known.
    pub fn value(&self) -> f64 {
        self.lines.iter().map(|l| l.price.unwrap_or(0.0) * l.quantity).sum()
    }

    pub fn add(&mut self, product: &Product) {
        match self.lines.iter_mut().find(|l| l.id == product.id) {
            Some(line) => {
                line.quantity += product.quantity;
                if product.price.is_some() {
                    line.price = product.price;
                }
            }
            None => {
                if self.lines.len() >= MAX_LINES {
                    let mut first = true;
                    self.lines.retain(|_| !core::mem::take(&mut first));
                }
                self.lines.push(product.clone());
            }
        }
    }

    pub fn remove(&mut self, product: &Product) {
        if let Some(line) = self.lines.iter_mut().find(|l| l.id == product.id) {
            line.quantity -= product.quantity;
        }
        self.lines.retain(|l| l.quantity >= 1.0);
    }

    /// The shop showed its cart: that is the truth (an empty snapshot empties it).
    pub fn replace(&mut self, products: &[Product]) {
        self.lines = products.iter().take(MAX_LINES).cloned().collect();
    }

    pub fn clear(&mut self) {
        self.lines.clear();
    }

    pub fn write(&self, w: &mut ObjectWriter, key: &str) {
        let mut array = String::from("[");
        for (i, l) in self.lines.iter().enumerate() {
            if i > 0 {
                array.push(',');
            }
            let mut o = ObjectWriter::new(&mut array);
            o.string("id", &l.id).money("quantity", l.quantity);
            if let Some(price) = l.price {
                o.money("price", price);
            }
            if let Some(category) = &l.category {
                o.string("category", category);
            }
            if let Some(brand) = &l.brand {
                o.string("brand", brand);
            }
            o.finish();
        }
        array.push(']');
        w.raw(key, &array);
    }

    pub fn read(value: Option<&Value>) -> Cart {
        let lines = value.and_then(Value::as_array).unwrap_or(&[]);
        let lines = lines
            .iter()
            .filter_map(|l| {
                Some(Product {
                    id: l.get("id")?.as_str()?.to_string(),
                    category: l.get("category").and_then(Value::as_str).map(String::from),
                    brand: l.get("brand").and_then(Value::as_str).map(String::from),
                    // as the tracker's validation would have let them in: a finite price of zero
                    // or more, a finite quantity of one or more
                    price: l
                        .get("price")
                        .and_then(Value::as_f64)
                        .filter(|p| p.is_finite() && *p >= 0.0),
                    quantity: l
                        .get("quantity")
                        .and_then(Value::as_f64)
                        .filter(|q| q.is_finite() && *q >= 1.0)?,
                })
            })
            .take(MAX_LINES)
            .collect();
        Cart { lines }
    }

    /// `[{"product_id", "quantity", "price"?}…]`, the shape a page reads in `profile().cart`.
    pub fn write_items(&self, w: &mut ObjectWriter, key: &str) {
        let items = Value::Array(
            self.lines
                .iter()
                .map(|l| {
                    let mut item = Value::Object(Vec::new());
                    item.set("product_id", Value::string(&l.id));
                    item.set("quantity", Value::number(l.quantity));
                    if let Some(price) = l.price {
                        item.set("price", Value::number(price));
                    }
                    item
                })
                .collect(),
        );
        w.value(key, &items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json;

    fn p(id: &str, price: f64, quantity: f64) -> Product {
        Product {
            id: id.into(),
            price: Some(price),
            quantity,
            ..Product::default()
        }
    }

    #[test]
    fn adds_removes_snapshots_and_values() {
        let mut cart = Cart::default();
        cart.add(&p("a", 10.0, 1.0));
        cart.add(&p("a", 12.0, 2.0));
        cart.add(&p("b", 5.0, 1.0));
        assert_eq!((cart.items(), cart.value()), (4.0, 41.0), "a's latest price counts");
        cart.remove(&p("a", 12.0, 1.0));
        assert_eq!((cart.items(), cart.value()), (3.0, 29.0));
        cart.remove(&p("b", 5.0, 5.0));
        assert_eq!(cart.lines.len(), 1, "a line at zero goes");
        cart.remove(&p("zzz", 1.0, 1.0));
        cart.replace(&[p("c", 1.5, 4.0)]);
        assert_eq!(cart.value(), 6.0);
        cart.clear();
        assert!(cart.is_empty());
    }

    #[test]
    fn bounded_and_round_trips() {
        let mut cart = Cart::default();
        for i in 0..(MAX_LINES + 10) {
            cart.add(&p(&i.to_string(), 1.0, 1.0));
        }
        assert_eq!(cart.lines.len(), MAX_LINES);
        assert_eq!(cart.lines[0].id, "10", "the oldest lines went");
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        cart.write(&mut w, "cart");
        w.finish();
        let value = json::parse(&out).unwrap();
        assert_eq!(Cart::read(value.get("cart")), cart);
        assert_eq!(Cart::read(None), Cart::default());
    }
}
