//! The module `f` beside a free fn `f`, re-exporting its companions as `f::cache`, `f::uncached`, `f::refresh`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::Visibility;

use super::{cfgs, doc, Names};
use crate::model::Model;

/// `mod f { pub use super::{..} as cache, uncached, refresh }` next to a free fn `f`: the companions are
/// defined beside the fn, so their types resolve as the user wrote them.
pub(super) fn module(model: &Model, names: &Names) -> TokenStream {
    let func = &model.func;
    let name = &func.sig.ident;
    let vis = &func.vis;
    let inner_vis = nested_vis(vis);
    let cfgs = cfgs(func);
    let Names {
        uncached,
        cache,
        refresh,
    } = names;
    let mod_doc = doc(&[format!(
        "The cache behind the `#[async_cache]` fn `{name}`: `{name}::cache()`, `{name}::uncached(..)`, \
         `{name}::refresh(..)`."
    )]);
    quote! {
        #(#cfgs)*
        #mod_doc
        #vis mod #name {
            #[allow(unused_imports)]
            #inner_vis use super::#cache as cache;
            #[allow(unused_imports)]
            #inner_vis use super::#uncached as uncached;
            #[allow(unused_imports)]
            #inner_vis use super::#refresh as refresh;
        }
    }
}

/// The visibility, inside the generated module, that reaches as far as `vis` reaches outside it.
fn nested_vis(vis: &Visibility) -> TokenStream {
    let span = Span::call_site();
    match vis {
        Visibility::Public(_) => vis.to_token_stream(),
        Visibility::Inherited => quote_spanned!(span=> pub(super)),
        Visibility::Restricted(r) => {
            let path = &r.path;
            let first = path.segments.first().map(|s| s.ident.to_string());
            let rest = path.segments.iter().skip(1);
            match first.as_deref() {
                // `pub(self)`, `pub(in self::a)`: one level further up from inside.
                Some("self") => quote!(pub(in super #(:: #rest)*)),
                // `pub(super)`, `pub(in super::a)`: add a level.
                Some("super") => quote!(pub(in super::#path)),
                // `pub(crate)`, `pub(in crate::a)`: absolute already.
                _ => vis.to_token_stream(),
            }
        }
    }
}
