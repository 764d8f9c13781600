//! [`Errors`]: every problem found in one attribute, gathered so that they are all reported at once, each on its
//! own token.

use proc_macro2::TokenStream;

/// The errors found so far (none at first).
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    /// Adds one error.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    /// How many errors have been pushed (so a check can tell whether it added any).
    pub(crate) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |e| e.into_iter().count())
    }

    /// `Ok(value)` if nothing was pushed, else all the errors as one.
    pub(crate) fn or_ok<T>(self, value: T) -> syn::Result<T> {
        self.0.map_or(Ok(value), Err)
    }

    /// `compile_error!`s for every error (nothing if there is none).
    pub(crate) fn to_compile_errors(&self) -> TokenStream {
        self.0
            .as_ref()
            .map(syn::Error::to_compile_error)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::Errors;
    use proc_macro2::Span;

    #[test]
    fn gathers_every_error() {
        let mut errors = Errors::default();
        assert_eq!(errors.len(), 0);
        assert!(errors.to_compile_errors().is_empty());
        errors.push(syn::Error::new(Span::call_site(), "one"));
        errors.push(syn::Error::new(Span::call_site(), "two"));
        assert_eq!(errors.len(), 2);
        assert_eq!(
            errors
                .to_compile_errors()
                .to_string()
                .matches("compile_error")
                .count(),
            2
        );
        let all = errors.or_ok(()).unwrap_err();
        let messages: Vec<String> = all.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages, ["one", "two"]);
    }

    #[test]
    fn none_is_ok() {
        assert_eq!(Errors::default().or_ok(7).unwrap(), 7);
    }
}
