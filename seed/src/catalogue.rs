//! The e-commerce catalogue that fills fake-cell indexes, generated from the word lists in
//! `fixtures/seed/catalogue.json`.
//!
//! Ids and documents come from two separate streams per index (`index/<name>/ids`,
//! `index/<name>/docs`), so the manifest's sample ids and the merchandising rules can be computed
//! without generating the documents themselves.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::fixtures::Catalogue;
use crate::rng::{LOWER_ALNUM, Stream};

/// Fields the add-documents request vectorises (unstructured indexes need them named).
pub const TENSOR_FIELDS: [&str; 2] = ["title", "description"];

/// `count` unique document ids for the index called `index`.
pub fn doc_ids(seed: u64, index: &str, count: usize) -> Vec<String> {
    let mut s = Stream::new(seed, &format!("index/{index}/ids"));
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let id = format!("sku-{}", s.string(LOWER_ALNUM, 12));
        if seen.insert(id.clone()) {
            out.push(id);
        }
    }
    out
}

/// The documents for `ids` (in the same order), mostly from the index's main category.
pub fn documents(
    cat: &Catalogue,
    seed: u64,
    index: &str,
    main_category: &str,
    ids: &[String],
) -> Vec<Value> {
    let main_category = cat
        .categories
        .iter()
        .position(|c| c.name == main_category)
        .unwrap_or(0);
    let mut s = Stream::new(seed, &format!("index/{index}/docs"));
    ids.iter()
        .map(|id| document(cat, &mut s, main_category, id))
        .collect()
}

fn document(cat: &Catalogue, s: &mut Stream, main_category: usize, id: &str) -> Value {
    let category = if s.chance(7, 10) {
        &cat.categories[main_category.min(cat.categories.len() - 1)]
    } else {
        s.pick(&cat.categories)
    };
    let product = s.pick(&category.products);
    let brand = s.pick(&cat.brands);
    let adjective = s.pick(&cat.adjectives);
    let color = s.pick(&cat.colors);
    let material = s.pick(&cat.materials);
    let feature = s.pick(&cat.features);
    let feature2 = s.pick(&cat.features);
    let use_ = s.pick(&cat.uses);
    let with_material = s.chance(1, 2);
    let title = if with_material {
        format!("{brand} {adjective} {color} {material} {product}")
    } else {
        format!("{brand} {adjective} {color} {product}")
    };
    let description = format!(
        "The {} {} from {brand} in {} {}, made for {use_}. It comes with {feature} and {feature2}.",
        adjective.to_lowercase(),
        product.to_lowercase(),
        color.to_lowercase(),
        material.to_lowercase(),
    );
    let [lo, hi] = category.price_cents;
    let dollars = s.range(lo / 100, hi / 100).max(1);
    let cents_tail = *s.pick(&[99u64, 0, 49, 95, 50]);
    let price_cents = (dollars - 1) * 100 + if cents_tail == 0 { 100 } else { cents_tail };
    let stock = if s.chance(1, 10) { 0 } else { s.range(1, 500) };
    let rating_tenths = s.range(28, 50);
    let reviews = s.range(0, 2400);
    json!({
        "_id": id,
        "title": title,
        "description": description,
        "brand": brand,
        "category": category.name,
        "product_type": product,
        "color": color,
        "material": material,
        "price": price_cents as f64 / 100.0,
        "currency": "USD",
        "stock": stock,
        "in_stock": stock > 0,
        "rating": rating_tenths as f64 / 10.0,
        "review_count": reviews,
        "image_url": format!("https://picsum.photos/seed/{id}/640/640"),
        "tags": [
            category.name.to_lowercase(),
            color.to_lowercase(),
            material.to_lowercase(),
            adjective.to_lowercase(),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_stable_and_seed_dependent() {
        let a = doc_ids(1, "a", 500);
        assert_eq!(a.len(), 500);
        assert_eq!(a.iter().collect::<BTreeSet<_>>().len(), 500);
        assert_eq!(a, doc_ids(1, "a", 500));
        assert_eq!(&a[..10], &doc_ids(1, "a", 10)[..]);
        assert_ne!(a[0], doc_ids(2, "a", 1)[0]);
        assert_ne!(a[0], doc_ids(1, "b", 1)[0]);
    }

    #[test]
    fn documents_look_like_a_catalogue() {
        let cat = &crate::fixtures::get().unwrap().catalogue;
        let main = &cat.categories[2].name;
        let ids = doc_ids(9, "x", 200);
        let docs = documents(cat, 9, "x", main, &ids);
        assert_eq!(docs, documents(cat, 9, "x", main, &ids));
        for (d, id) in docs.iter().zip(&ids) {
            assert_eq!(d["_id"], json!(id));
            let price = d["price"].as_f64().unwrap();
            assert!(price > 0.0 && price < 1000.0, "{price}");
            assert_eq!(d["in_stock"], json!(d["stock"].as_u64().unwrap() > 0));
            assert!(d["title"].as_str().unwrap().len() > 10);
            assert!(d["image_url"].as_str().unwrap().starts_with("https://"));
        }
        let in_main = docs.iter().filter(|d| d["category"] == json!(main)).count();
        assert!(in_main > 100, "{in_main}");
    }
}
