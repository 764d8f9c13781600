//! A method's receiver: which ones a cached method may take.

use syn::{FnArg, ItemFn, Type};

use super::{Receiver, ReceiverKind};
use crate::errors::Errors;
use crate::syntax::{arc_of_self, is_self, unwrap_type};

pub(super) fn receiver(func: &ItemFn, errors: &mut Errors) -> Option<Receiver> {
    let FnArg::Receiver(recv) = func.sig.inputs.first()? else {
        return None;
    };
    const SUPPORTED: &str = "Take `&self` or `self: Arc<Self>` (or `self: &Arc<Self>`)";
    let kind = match unwrap_type(&recv.ty) {
        Type::Reference(r) if r.mutability.is_some() => Err(format!(
            "#[async_cache] cannot cache a `&mut self` method: a cached call skips the body, and with it the \
             mutation. {SUPPORTED} and use interior mutability, or cache a free fn"
        )),
        Type::Reference(r) if is_self(&r.elem) => Ok(ReceiverKind::Ref),
        Type::Reference(r) if arc_of_self(&r.elem) => Ok(ReceiverKind::RefArc),
        ty if is_self(ty) => Err(format!(
            "#[async_cache] cannot cache a method taking `self` by value: every call would consume the instance. \
             {SUPPORTED}"
        )),
        ty if arc_of_self(ty) => Ok(ReceiverKind::Arc),
        _ => Err(format!(
            "#[async_cache] does not support this receiver. {SUPPORTED}"
        )),
    };
    match kind {
        Ok(kind) => Some(Receiver {
            kind,
            self_token: recv.self_token,
        }),
        Err(message) => {
            errors.push(syn::Error::new_spanned(recv, message));
            None
        }
    }
}
