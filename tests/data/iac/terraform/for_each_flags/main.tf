variable "users" {
  description = "Users and what each one gets."
  type = map(object({
    console = bool
    key     = bool
  }))
  default = {
    alice = { console = true, key = true }
    bob   = { console = true, key = false }
    carol = { console = false, key = true }
  }
}

resource "aws_iam_user" "this" {
  for_each = var.users
  name     = each.key
}

resource "aws_iam_user_login_profile" "this" {
  for_each = { for name, user in var.users : name => user if user.console }
  user     = aws_iam_user.this[each.key].name
}

resource "aws_iam_access_key" "this" {
  for_each = { for name, user in var.users : name => user if user.key }
  user     = aws_iam_user.this[each.key].name
}
