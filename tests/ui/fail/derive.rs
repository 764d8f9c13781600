use cache_core::{CacheIdentity, InstanceId};

#[derive(CacheIdentity)]
struct NoIdentity {
    name: String,
}

#[derive(CacheIdentity)]
struct TwoIds {
    a: InstanceId,
    b: InstanceId,
}

#[derive(CacheIdentity)]
struct TwoMarked(#[cache_identity] InstanceId, #[cache_identity] InstanceId);

#[derive(CacheIdentity)]
struct MarkedWithArgs {
    #[cache_identity(primary)]
    id: InstanceId,
}

#[derive(CacheIdentity)]
#[cache_identity(krate = "x")]
struct UnknownOption {
    id: InstanceId,
}

#[derive(CacheIdentity)]
enum NotAStruct {
    A(InstanceId),
}

#[derive(CacheIdentity)]
union NotAStructEither {
    a: u64,
}

fn main() {}
