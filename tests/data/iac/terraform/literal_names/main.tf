variable "team" {
  type    = string
  default = "ops"
}

locals {
  user_name = "${var.team}-bob"
}

resource "aws_iam_user" "bob" {
  name = local.user_name
}

resource "aws_iam_user_login_profile" "bob" {
  user = "ops-bob"
}

resource "aws_iam_access_key" "bob" {
  user = "${var.team}-bob"
}
