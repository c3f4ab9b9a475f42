variable "name" {
  type = string
}

resource "aws_iam_user" "this" {
  name = var.name
  path = "/staff/"
}

output "user_name" {
  value = aws_iam_user.this.name
}
