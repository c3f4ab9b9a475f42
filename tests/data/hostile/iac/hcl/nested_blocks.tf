locals {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
dynamic {
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
}
